"""Events other packages react to without this one importing them (surveys listens)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sent inside the transaction that reopens an issue, by hand or after a low rating:
# (sender=Issue, now=datetime); surveys withdraws the issue's pending rating link
issue_reopened = _signals.signal("issue-reopened")
