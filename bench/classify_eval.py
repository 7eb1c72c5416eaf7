"""How well the default keyword rules and the sentiment lexicon classify customer voices.

Reads bench/data/voice_labelled.csv (402 statements written for this purpose: 302 Chinese,
100 English, over the 11 default categories plus a few with no topic, each labelled with
dimension, category and sentiment, and split in halves: `dev` was looked at while the rules
and the lexicon were written and tuned, `test` was not). Prints, for each split and language:
accuracy of dimension, category and sentiment beside a majority-class reference (the most
frequent label of the dev half, measured in the same run), per-class precision and recall,
and the confusion matrices; then the speed of suggest() in texts per second, pure and
through the database cache, beside the cost of normalising the text alone.

Finally it records the dev half as voices in a scratch database with the labels given by
"staff" and runs the corrections report (`flask voice-rules eval` reads the same): the rules'
suggestions kept on each voice, compared with what staff set, must give the same agreement
as the offline figures for that half.

    .venv/bin/python bench/classify_eval.py [--split dev|test|all] [--repeat 20] [--no-db]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.issues.reference import CATEGORIES
from app.voice.classification import (
    CategoryInfo,
    Rule,
    RuleSet,
    Suggestion,
    classify,
)
from app.voice.rules import DEFAULT_RULES
from app.voice.textnorm import normalize

DATA = Path(__file__).with_name("data") / "voice_labelled.csv"
NONE = "(none)"
FIELDS = ("dimension", "category", "sentiment")


def load_rows() -> list[dict[str, str]]:
    with open(DATA, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def default_ruleset() -> RuleSet:
    """The default rules as `flask voice-rules init` stores them, without a database."""
    cats = {
        code: CategoryInfo(i + 1, code, dim, zh, en)
        for i, (code, zh, en, dim) in enumerate(CATEGORIES)
    }
    rules: list[Rule] = []
    position = 0
    seen: set[str] = set()
    for key, words in DEFAULT_RULES.items():
        dim_only = key.split(":", 1)[1] if key.startswith("dimension:") else None
        for entry in words:
            keyword, weight = entry if isinstance(entry, tuple) else (entry, 1.0)
            norm = normalize(keyword)
            if norm in seen:
                continue
            seen.add(norm)
            position += 10
            dimension = dim_only or cats[key].dimension
            category = None if dim_only else key
            rules.append(Rule(position, keyword, norm, dimension, category, weight, position))
    return RuleSet(version=("bench",), rules=tuple(rules), categories=cats)


def predicted(s: Suggestion, field: str) -> str:
    value = {"dimension": s.dimension, "category": s.category_code, "sentiment": s.sentiment}
    return value[field] or NONE


def gold(row: dict[str, str], field: str) -> str:
    return row[field] or NONE


def per_class(pairs: list[tuple[str, str]]) -> list[tuple[str, int, float | None, float | None]]:
    labels = sorted({g for g, _ in pairs} | {p for _, p in pairs})
    out = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        predicted_n = sum(1 for _, p in pairs if p == label)
        support = sum(1 for g, _ in pairs if g == label)
        precision = tp / predicted_n if predicted_n else None
        recall = tp / support if support else None
        out.append((label, support, precision, recall))
    return out


def fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:5.2f}"


def confusion(pairs: list[tuple[str, str]]) -> str:
    labels = sorted({g for g, _ in pairs} | {p for _, p in pairs})
    short = {label: label[:6] for label in labels}
    counts = Counter(pairs)
    lines = ["gold \\ rules   " + " ".join(f"{short[p]:>6}" for p in labels)]
    for g in labels:
        lines.append(f"{g[:14]:<14} " + " ".join(f"{counts[(g, p)]:>6}" for p in labels))
    return "\n".join(lines)


def accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else 0.0


def evaluate(
    rows: list[dict[str, str]],
    suggestions: dict[str, Suggestion],
    majority: dict[str, str],
    title: str,
    detail: bool,
) -> dict[str, float]:
    print(f"\n== {title}: {len(rows)} texts ==")
    print(f"{'field':<10} {'rules':>7} {'majority':>9}   (majority label from the dev half)")
    result = {}
    for field in FIELDS:
        pairs = [(gold(r, field), predicted(suggestions[r["id"]], field)) for r in rows]
        base = [(gold(r, field), majority[field]) for r in rows]
        result[field] = accuracy(pairs)
        print(f"{field:<10} {accuracy(pairs):7.1%} {accuracy(base):9.1%}")
    if detail:
        for field in FIELDS:
            pairs = [(gold(r, field), predicted(suggestions[r["id"]], field)) for r in rows]
            print(f"\n  {field}: per class (support, precision, recall)")
            for label, support, precision, recall in per_class(pairs):
                print(f"    {label:<18} {support:>4}  {fmt(precision)}  {fmt(recall)}")
            print("\n" + confusion(pairs))
    return result


def speed(fn: Callable[[str], Any], texts: list[str], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            fn(text)
    return repeat * len(texts) / (time.perf_counter() - start)


def corrections_in_database(rows: list[dict[str, str]], repeat: int) -> None:
    """Record the rows as staff-classified voices in a scratch SQLite database, run the
    corrections report, and time suggest() through the database-backed cache."""
    from bench._common import make_app, scratch_databases

    with scratch_databases(include_pg=False) as urls:
        _label, url = urls[0]
        app = make_app(url)
        with app.app_context():
            from app.core.scoping import Scope
            from app.extensions import db
            from app.org.models import Office, Region
            from app.voice.classification import suggest
            from app.voice.classification_services import corrections_report
            from app.voice.rules import ensure_default_rules
            from app.voice.services import record_voice

            region = Region(code="EAST", name="East")
            db.session.add(region)
            db.session.flush()
            db.session.add(Office(code="SH", name="Shanghai", region_id=region.id))
            ensure_default_rules()
            db.session.commit()
            from app.auth.models import User

            staff = User(email="qa@bench.local", name="QA", role="quality_admin", password_hash="x")
            db.session.add(staff)
            db.session.commit()
            for row in rows:
                record_voice(
                    actor=staff,
                    channel="hotline",
                    text=row["text"],
                    office_code="SH",
                    dimension=row["dimension"] or None,
                    category=row["category"] or None,
                    sentiment=row["sentiment"],
                    external_id=f"bench-{row['id']}",
                )
            db.session.commit()
            report = corrections_report(Scope("company"))
            print(
                f"\n== corrections in the database: {report.staff_classified} voices "
                "classified by staff (the dev half) =="
            )
            for f in report.fields:
                rate = f"{f.rate:.1%}" if f.rate is not None else "n/a"
                print(f"{f.name:<10} rules agreed with staff {f.agreed}/{f.compared} ({rate})")
            texts = [r["text"] for r in rows]
            db_rate = speed(suggest, texts, max(1, repeat // 4))
            print(f"\nsuggest() through the database cache (SQLite): {db_rate:,.0f} texts/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--no-db", action="store_true", help="skip the database part")
    parser.add_argument("--detail", action="store_true", help="per-class figures and matrices")
    args = parser.parse_args()

    rows = load_rows()
    ruleset = default_ruleset()
    suggestions = {r["id"]: classify(r["text"], ruleset) for r in rows}
    dev = [r for r in rows if r["split"] == "dev"]
    majority = {f: Counter(gold(r, f) for r in dev).most_common(1)[0][0] for f in FIELDS}
    print(f"{len(ruleset.rules)} default rules; {len(rows)} labelled texts ({DATA.name})")
    print("majority reference:", ", ".join(f"{f}={v}" for f, v in majority.items()))

    splits = ("dev", "test") if args.split == "all" else (args.split,)
    for split in splits:
        part = [r for r in rows if r["split"] == split]
        evaluate(part, suggestions, majority, f"{split} half, all languages", args.detail)
        by_lang: dict[str, list[dict[str, str]]] = defaultdict(list)
        for r in part:
            by_lang[r["lang"]].append(r)
        for lang, lang_rows in sorted(by_lang.items()):
            evaluate(lang_rows, suggestions, majority, f"{split} half, {lang}", False)

    texts = [r["text"] for r in rows]
    floor = speed(normalize, texts, args.repeat)
    rate = speed(lambda t: classify(t, ruleset), texts, args.repeat)
    mean_len = sum(len(t) for t in texts) / len(texts)
    print(f"\nspeed over {len(texts)} texts x {args.repeat} (mean {mean_len:.0f} characters):")
    print(f"  reference: normalise only   {floor:12,.0f} texts/s")
    print(f"  suggest (pure, rules held)  {rate:12,.0f} texts/s")
    if not args.no_db:
        corrections_in_database(dev, args.repeat)


if __name__ == "__main__":
    main()
