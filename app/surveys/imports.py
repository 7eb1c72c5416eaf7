"""Importing an outside agency's results (第三方满意度调查) into a campaign of a third-party
survey: one row per respondent, columns named by question key, optional `company` (empty: our
customers; otherwise the competitor measured) and `external_id` (the agency's respondent id,
which makes a re-import of the same file change nothing). CSV (UTF-8) or XLSX."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.core import audit
from app.core.errors import Forbidden, ValidationFailed
from app.extensions import db
from app.surveys import scoring
from app.surveys.answers import check_answers
from app.surveys.campaigns import get_campaign
from app.surveys.models import Indicator, ThirdPartyAnswer
from app.surveys.services import DESIGN_ROLES

MAX_ROWS = 20_000
OURS = ""  # the `company` value of our own customers' rows in summaries


@dataclass
class ImportResult:
    created: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "duplicates": self.duplicates, "rejected": self.rejected}


def _neutral(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _rows(filename: str, data: bytes) -> Iterator[dict[str, str]]:
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # any unreadable workbook is the caller's bad input
            raise ValidationFailed(fields={"file": "not a readable XLSX file"}) from exc
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [_neutral(h) for h in next(rows, ())]
        for row in rows:
            yield {h: _neutral(v) for h, v in zip(header, row, strict=False) if h}
        book.close()
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(fields={"file": "CSV must be UTF-8"}) from exc
    for row in csv.DictReader(io.StringIO(text)):
        yield {(k or "").strip(): _neutral(v) for k, v in row.items() if k}


SPECIAL_COLUMNS = ("company", "external_id")


def parse_mapping(value: Any, question_keys: list[str]) -> dict[str, str]:
    """The agency's column names → our fields (a question key, `company` or `external_id`),
    from a dict or from lines `column = field` (either side may be quoted plainly, no escapes).
    Columns not named keep their own name."""
    if value is None or value == "" or value == {}:
        return {}
    pairs: list[tuple[Any, Any]]
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, str):
        pairs = []
        for number, line in enumerate(value.splitlines(), start=1):
            if not line.strip():
                continue
            column, sep, target = line.partition("=")
            if not sep:
                raise ValidationFailed(fields={"mapping": f"line {number}: write column = field"})
            pairs.append((column, target))
    else:
        raise ValidationFailed(fields={"mapping": "an object {column: field}"})
    allowed = set(question_keys) | set(SPECIAL_COLUMNS)
    mapping: dict[str, str] = {}
    for column, target in pairs:
        if not isinstance(column, str) or not isinstance(target, str):
            raise ValidationFailed(fields={"mapping": "column names and fields are text"})
        column, target = column.strip()[:200], target.strip()
        if not column or target not in allowed:
            raise ValidationFailed(
                fields={"mapping": f"{target[:40]!r} is not a question key, company or external_id"}
            )
        if target in mapping.values():
            raise ValidationFailed(fields={"mapping": f"two columns map to {target!r}"})
        mapping[column] = target
    return mapping


def import_results(
    *,
    actor: User,
    campaign_id: int,
    filename: str,
    data: bytes,
    mapping: Any = None,
) -> ImportResult:
    """`mapping` (optional): the file's column names → question keys, `company`,
    `external_id` (see parse_mapping), for an agency's file as it comes."""
    if actor.role not in DESIGN_ROLES:
        raise Forbidden("Only quality admins and administrators import results.")
    campaign = get_campaign(actor, campaign_id)
    if campaign.survey.kind != "third_party":
        raise ValidationFailed(fields={"campaign": "only a third-party survey takes imports"})
    if not filename.lower().endswith((".csv", ".xlsx")):
        raise ValidationFailed(fields={"file": "a .csv or .xlsx file"})
    questions = campaign.survey.questions
    columns = parse_mapping(mapping, [q.key for q in questions])
    result = ImportResult()
    for number, raw in enumerate(_rows(filename, data), start=2):  # row 1 is the header
        if number - 1 > MAX_ROWS:
            raise ValidationFailed(fields={"file": f"at most {MAX_ROWS} rows"})
        if columns and number == 2:
            missing = [c for c in columns if c not in raw]
            if missing:
                raise ValidationFailed(
                    fields={"mapping": "not in the file: " + ", ".join(missing)[:300]}
                )
        row = {columns.get(k, k): v for k, v in raw.items()} if columns else raw
        company = row.get("company", "")[:120] or None
        clean, errors = check_answers(questions, row, strict=False)
        if errors:
            result.rejected.append({"row": number, "errors": errors})
            continue
        key = (
            row.get("external_id", "")[:100]
            or hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:64]
        )
        by_id = {q.id: q for q in questions}
        try:
            with db.session.begin_nested():
                for question_id, (value, text) in clean.items():
                    q = by_id[question_id]
                    db.session.add(
                        ThirdPartyAnswer(
                            campaign_id=campaign.id,
                            row_key=key,
                            company=company,
                            question_id=q.id,
                            question_type=q.type,
                            indicator_id=q.indicator_id,
                            value=value,
                            text=text,
                        )
                    )
                db.session.flush()
        except IntegrityError:
            result.duplicates += 1
            continue
        result.created += 1
    audit.record(
        actor_id=actor.id,
        entity_type="campaign",
        entity_id=campaign.id,
        action="import",
        changes={
            "file": filename[:200],
            "created": result.created,
            "duplicates": result.duplicates,
            "rejected": len(result.rejected),
        },
        office_id=campaign.office_id,
    )
    return result


def company_figures(campaign_id: int, weights: dict[str, float]) -> dict[str, dict[str, Any]]:
    """NPS, CSAT and index per company measured (OURS for our customers), aggregated in SQL."""
    counts: dict[str, dict[str, dict[int, int]]] = {}
    rows = db.session.execute(
        sa.select(
            ThirdPartyAnswer.company,
            ThirdPartyAnswer.question_type,
            Indicator.key,
            ThirdPartyAnswer.value,
            sa.func.count(),
        )
        .outerjoin(Indicator, Indicator.id == ThirdPartyAnswer.indicator_id)
        .where(ThirdPartyAnswer.campaign_id == campaign_id, ThirdPartyAnswer.value.is_not(None))
        .group_by(
            ThirdPartyAnswer.company,
            ThirdPartyAnswer.question_type,
            Indicator.key,
            ThirdPartyAnswer.value,
        )
    )
    for company, qtype, indicator, value, n in rows:
        if value is None:
            continue
        bucket = counts.setdefault(company or OURS, {})
        name = qtype if qtype == "nps" else f"ind:{indicator}"
        for target in (name, "rating5") if qtype == "rating5" else (name,):
            per = bucket.setdefault(target, {})
            per[int(value)] = per.get(int(value), 0) + int(n)
    out: dict[str, dict[str, Any]] = {}
    for company, bucket in counts.items():
        by_indicator = {k[4:]: v for k, v in bucket.items() if k.startswith("ind:")}
        index, _ = scoring.satisfaction_index(weights, by_indicator)
        out[company] = {
            "nps": scoring.nps(bucket.get("nps", {})).as_dict(),
            "csat": scoring.csat(bucket.get("rating5", {})).as_dict(),
            "index": index.as_dict(),
        }
    return out
