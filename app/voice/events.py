"""What the voice package does when something happens elsewhere (connected on import, by
app.voice.views)."""

from __future__ import annotations

from typing import Any

from app.issues.models import Issue
from app.issues.signals import repeats_chosen
from app.voice.services import record_issue_repeats


@repeats_chosen.connect
def _record_repeats_of_new_issue(sender: Issue, **kw: Any) -> None:
    """The repeats the agent linked or dismissed while logging the issue, in its transaction."""
    record_issue_repeats(
        actor=kw["actor"],
        issue_id=sender.id,
        linked=kw["linked"],
        dismissed=kw["dismissed"],
        now=kw["now"],
    )
