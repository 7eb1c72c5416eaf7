"""Cell values as people write them: dates, words, header names. Pure, no app needed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.voice.import_values import DIMENSION_WORDS, guess_mapping, parse_occurred_at, word
from app.voice.imports import IMPORT_FIELDS

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23", datetime(2026, 11, 23, tzinfo=SH)),
        ("2026/11/23", datetime(2026, 11, 23, tzinfo=SH)),
        ("2026.11.23", datetime(2026, 11, 23, tzinfo=SH)),
        ("2026年11月23日", datetime(2026, 11, 23, tzinfo=SH)),
        ("2026年11月23日 14:05", datetime(2026, 11, 23, 14, 5, tzinfo=SH)),
        ("2026-11-23 14:05:09", datetime(2026, 11, 23, 14, 5, 9, tzinfo=SH)),
        ("2026/1/3 9:05", datetime(2026, 1, 3, 9, 5, tzinfo=SH)),
        ("2026-11-23T14:05:09+08:00", datetime(2026, 11, 23, 6, 5, 9, tzinfo=UTC)),
        ("2026-11-23T06:05:09Z", datetime(2026, 11, 23, 6, 5, 9, tzinfo=UTC)),
        ("2026-11-23T14:05", datetime(2026, 11, 23, 14, 5, tzinfo=SH)),
    ],
)
def test_dates_in_chinese_and_iso_forms(text, expected):
    assert parse_occurred_at(text, SH) == expected


def test_excel_cells_are_in_the_offices_zone():
    naive = datetime(2026, 11, 23, 14, 5)  # noqa: DTZ001 (what openpyxl gives)
    assert parse_occurred_at(naive, SH) == datetime(2026, 11, 23, 14, 5, tzinfo=SH)
    assert parse_occurred_at(date(2026, 11, 23), SH) == datetime(2026, 11, 23, tzinfo=SH)


@pytest.mark.parametrize("text", ["2026-13-01", "2026-11/23", "明天", "23/11/2026", "45000"])
def test_what_is_not_a_date_says_so(text):
    with pytest.raises(ValueError, match="date"):
        parse_occurred_at(text, SH)
    with pytest.raises(ValueError):
        parse_occurred_at(45000, SH)


def test_words_become_codes_and_unknown_words_pass_through():
    assert word("产品", DIMENSION_WORDS) == "product"
    assert word(" Service ", DIMENSION_WORDS) == "service"
    assert word("价格", DIMENSION_WORDS) == "价格"
    assert word("  ", DIMENSION_WORDS) is None


def test_headers_are_recognised_in_chinese_and_english():
    headers = ["反馈内容", "日期", "手机", "批次", "联系人电话", "Customer Name", "备注"]
    assert guess_mapping(headers, IMPORT_FIELDS) == {
        "text": "反馈内容",
        "occurred_at": "日期",
        "customer_phone": "手机",
        "batch": "批次",
        "contact_phone": "联系人电话",
        "customer_name": "Customer Name",
    }
    # a header that is the field's own name wins over a synonym
    assert guess_mapping(["反馈", "text"], IMPORT_FIELDS) == {"text": "text"}
    assert guess_mapping(["内容", "时间", "电话"], IMPORT_FIELDS) == {
        "text": "内容",
        "occurred_at": "时间",
        "customer_phone": "电话",
    }
