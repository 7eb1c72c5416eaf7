"""What each warning reason is called and how its figures read, on pages and in the API."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

REASON = {
    "contract_expiring": _l("Contract near expiry"),
    "falling_ratings": _l("Falling ratings"),
    "issue_burst": _l("Burst of issues"),
    "escalations": _l("Repeated escalations"),
    "volume_drop": _l("Contact volume drop"),
    "silence": _l("Silent after heavy use"),
}

# for the e-mail digest, which goes to people whose language the job cannot know
REASON_BILINGUAL = {
    "contract_expiring": "合同即将到期 / Contract near expiry",
    "falling_ratings": "评价下降 / Falling ratings",
    "issue_burst": "问题激增 / Burst of issues",
    "escalations": "多次升级 / Repeated escalations",
    "volume_drop": "往来量骤降 / Contact volume drop",
    "silence": "长期无往来 / Silent after heavy use",
}


def describe(reason: str, d: dict[str, Any]) -> str:
    """One sentence with the figures behind a warning, in the request's language."""
    return str(_sentence(reason, d))


def _sentence(reason: str, d: dict[str, Any]) -> Any:
    if reason == "contract_expiring":
        if d["days_left"] < 0:
            return _("Contract ended on %(date)s and has not been renewed.", date=d["contract_end"])
        return _(
            "Contract ends on %(date)s, in %(days)d days.",
            date=d["contract_end"],
            days=d["days_left"],
        )
    if reason == "falling_ratings":
        if d.get("mean_before") is None:
            return _("Mean rating %(mean).1f over %(n)d closed issues.", mean=d["mean"], n=d["n"])
        return _(
            "Mean rating %(mean).1f over %(n)d closed issues, down from %(before).1f.",
            mean=d["mean"],
            n=d["n"],
            before=d["mean_before"],
        )
    if reason == "issue_burst":
        return _(
            "%(n)d issues in %(days)d days; usually %(usual).1f.",
            n=d["n"],
            days=d["days"],
            usual=d["usual"],
        )
    if reason == "escalations":
        return _(
            "%(n)d issues escalated in %(days)d days (up to level %(level)d).",
            n=d["issues"],
            days=d["days"],
            level=d["max_level"],
        )
    if reason == "volume_drop":
        return _(
            "%(n)d contacts in the last %(days)d days against %(before)d the %(days)d days before.",
            n=d["n"],
            days=d["days"],
            before=d["before"],
        )
    if reason == "silence":
        return _(
            "No contact for %(days)d days after %(before)d contacts before.",
            days=d["days"],
            before=d["before"],
        )
    return ""


def describe_plain(reason: str, d: dict[str, Any]) -> str:
    """The figures without words, for the bilingual e-mail digest."""
    if reason == "contract_expiring":
        return f"{d['contract_end']} ({d['days_left']:+d} d)"
    if reason == "falling_ratings":
        before = f" ← {d['mean_before']:.1f}" if d.get("mean_before") is not None else ""
        return f"{d['mean']:.1f} (n={d['n']}){before}"
    if reason == "issue_burst":
        return f"{d['n']} / {d['days']} d (≈{d['usual']:.1f})"
    if reason == "escalations":
        return f"{d['issues']} / {d['days']} d, L{d['max_level']}"
    if reason == "volume_drop":
        return f"{d['n']} ← {d['before']} / {d['days']} d"
    if reason == "silence":
        return f"0 / {d['days']} d ← {d['before']}"
    return ""
