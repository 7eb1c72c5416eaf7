"""Cell values as people write them in Chinese and English spreadsheets: dates, dimensions,
sentiments and category names. Pure functions, no database."""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo
from typing import Any

from app.voice.problems import ENGLISH, problem

# 2026-11-23, 2026/11/23, 2026.11.23, 2026年11月23日, each optionally with 14:05 or 14:05:09
# (also 14时05分, and a full-width colon); the separators must agree with each other
_DATE = re.compile(
    r"^(?P<y>\d{4})(?:(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})|年(?P<m2>\d{1,2})月"
    r"(?P<d2>\d{1,2})[日号]?)"
    r"(?:(?:\s+|T|\s*)(?P<H>\d{1,2})[:：时](?P<M>\d{2})(?:[:：分](?P<S>\d{2})(?:\.\d+)?秒?|分)?)?$"
)

DATE_HINT = ENGLISH["not_a_date"]

DIMENSION_WORDS = {
    "product": "product",
    "产品": "product",
    "service": "service",
    "服务": "service",
    "brand": "brand",
    "品牌": "brand",
}
SENTIMENT_WORDS = {
    "negative": "negative",
    "负面": "negative",
    "消极": "negative",
    "neutral": "neutral",
    "中性": "neutral",
    "positive": "positive",
    "正面": "positive",
    "积极": "positive",
}


def parse_occurred_at(value: Any, tz: tzinfo) -> datetime:
    """An aware datetime from a cell; naive values (and Excel date cells) are in `tz`.
    Raises ValueError whose argument is the Problem to tell a person."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=tz)
    if not isinstance(value, str):
        raise ValueError(problem("not_a_date"))
    text = value.strip()
    match = _DATE.match(text)
    if match:
        try:
            return datetime(
                int(match["y"]),
                int(match["m"] or match["m2"]),
                int(match["d"] or match["d2"]),
                int(match["H"] or 0),
                int(match["M"] or 0),
                int(match["S"] or 0),
                tzinfo=tz,
            )
        except ValueError as exc:
            raise ValueError(problem("not_a_real_date")) from exc
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(problem("not_a_date")) from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def word(value: str | None, words: dict[str, str]) -> str | None:
    """A code from its code or its Chinese/English word; unknown text passes through unchanged
    so that validation names it."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    return words.get(text.lower(), text)


def normalise_text(text: str) -> str:
    """For the content hash: the same words with other spacing are the same voice."""
    return " ".join(text.split())


# Column headers people use for each field, in Chinese and English (compared lower-cased and
# without spaces), so the mapping form comes pre-filled.
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "text": (
        "内容",
        "反馈内容",
        "反馈",
        "意见",
        "文本",
        "描述",
        "问题描述",
        "留言",
        "text",
        "content",
        "feedback",
        "comment",
        "description",
    ),
    "occurred_at": (
        "日期",
        "时间",
        "日期时间",
        "反馈时间",
        "发生时间",
        "来电时间",
        "date",
        "time",
        "datetime",
        "occurredat",
        "when",
    ),
    "category": ("类别", "分类", "问题类别", "问题分类", "category"),
    "dimension": ("维度", "dimension"),
    "sentiment": ("情感", "情绪", "倾向", "情感倾向", "sentiment"),
    "external_id": ("编号", "单号", "工单号", "记录编号", "id", "externalid", "ref", "reference"),
    "customer_name": ("客户", "客户名称", "客户姓名", "姓名", "customer", "customername", "name"),
    "customer_phone": (
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "电话号码",
        "联系电话",
        "客户电话",
        "phone",
        "mobile",
        "telephone",
        "customerphone",
    ),
    "contact_name": ("联系人", "contact", "contactname"),
    "contact_phone": ("联系人电话", "联系人手机", "contactphone"),
    "contact_email": ("邮箱", "电子邮件", "电子邮箱", "email", "e-mail", "contactemail"),
    "product": ("产品", "产品名称", "product"),
    "order_no": ("订单号", "订单", "订单编号", "order", "orderno", "ordernumber"),
    "amount": ("金额", "销售额", "amount"),
    "model": ("型号", "规格型号", "model"),
    "batch": ("批次", "批号", "批次号", "batch"),
    "reason_code": ("原因代码", "退货原因", "原因", "reason", "reasoncode"),
    "interviewee": ("受访者", "被访者", "interviewee"),
    "interviewee_role": ("受访者职务", "职务", "职位", "intervieweerole", "role"),
    "partner": ("合作伙伴", "伙伴", "partner"),
    "team": ("团队", "问题处理团队", "处理团队", "team"),
    "site": ("现场", "地点", "观察地点", "site"),
    "agency": ("调研机构", "机构", "agency"),
    "sample_size": ("样本量", "样本数", "样本", "samplesize"),
}


def _header_key(header: str) -> str:
    return "".join(header.split()).replace("_", "").lower()


def guess_mapping(headers: list[str], fields: tuple[str, ...]) -> dict[str, str]:
    """field → header, for the headers whose name says which field they are; each header is
    given to one field at most."""
    keys: dict[str, str] = {}
    for column in headers:
        keys.setdefault(_header_key(column), column)
    guessed: dict[str, str] = {}
    used: set[str] = set()
    for name in fields:
        for candidate in (name, *HEADER_WORDS.get(name, ())):
            header: str | None = keys.get(_header_key(candidate))
            if header is not None and header not in used:
                guessed[name] = header
                used.add(header)
                break
    return guessed
