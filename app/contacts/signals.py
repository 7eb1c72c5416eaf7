"""Events other packages react to without this one importing them (surveys listens)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sent inside the transaction that marks a milestone done: (sender=Milestone, now=datetime)
milestone_done = _signals.signal("milestone-done")
