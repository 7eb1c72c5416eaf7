"""Events other packages react to without this one importing them (STYLE §3.2)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sent inside the transaction that reopens an issue, by hand or after a low rating:
# (sender=Issue, now=datetime); surveys withdraws the issue's pending rating link
issue_reopened = _signals.signal("issue-reopened")

# Sent by the hotline screen inside the transaction that accepted an issue, when the agent acted
# on the likely repeats offered while typing: (sender=Issue, actor=User, linked=str,
# dismissed=str, now=datetime), the two strings as the repeat panel fills its hidden fields
# ("voice:12", "issue:5,voice:7"). Repeat detection belongs to the voice package, which stores
# them (app.voice.events); a ValidationFailed it raises undoes the whole intake.
repeats_chosen = _signals.signal("issue-repeats-chosen")
