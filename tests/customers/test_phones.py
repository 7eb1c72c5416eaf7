"""Phone numbers normalise to the digits stored and searched."""

from __future__ import annotations

import pytest

from app.customers.phones import normalise_phone, phone_search_prefix


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("１３８ ００１３ ８０００", "13800138000"),  # full-width digits and space
        ("+86 138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("＋８６（１３８）００１３.８０００", "13800138000"),
        ("138\t0013\n8000", "13800138000"),
        ("021-6888 8888", "02168888888"),  # landline keeps its area code
        ("(010) 1234 5678", "01012345678"),
        ("+86 21 6888 8888", "02168888888"),  # international landline → domestic form
        ("0086 21 6888 8888", "02168888888"),
        ("+1 (415) 555-0100", "14155550100"),  # foreign: digits without +
        ("+44 20 7946 0958", "442079460958"),
        ("95588", "95588"),  # five-digit service number
        ("86 21 6888 8888", "862168888888"),  # no + or 00: not known to be a country code
    ],
)
def test_normalise_phone(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "abc",
        "138 0013 800O",  # a letter O among the digits
        "1234",  # too short
        "1" * 21,  # too long
        "+",
        "١٢٣٤٥٦٧",  # Arabic-Indic digits are digits to Python, not to a phone system
        "138-0013-8000 ext 12",
    ],
)
def test_implausible_numbers_are_none(raw):
    assert normalise_phone(raw) is None


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("138", "138"),
        ("138-00", "13800"),
        ("１３８ ００", "13800"),
        ("+86 138", "138"),
        ("0086 1380", "1380"),
        ("86 1380", "1380"),
        ("+86 21", "021"),
        ("021-68", "02168"),
        ("861", "861"),  # too short to tell a country code from a number
    ],
)
def test_search_prefix(q, expected):
    assert phone_search_prefix(q) == expected


@pytest.mark.parametrize("q", ["", "13", "１３", "张伟", "138a", "上海 138", "--"])
def test_search_prefix_needs_three_digits_and_nothing_else(q):
    assert phone_search_prefix(q) is None


def test_search_prefix_of_a_full_number_is_its_normalised_form():
    for raw in ("１３８ ００１３ ８０００", "+86 138-0013-8000", "0086 13800138000"):
        assert phone_search_prefix(raw) == normalise_phone(raw) == "13800138000"
