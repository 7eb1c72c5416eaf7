"""Automatic escalation policy (pure): which level an issue's clocks call for, and warnings.

Level 1 (office manager) when a target is missed; level 2 (regional manager) when the
resolution target is overrun by a further 50 %; level 3 (company quality) at 100 % overrun.
The owner is warned at 80 % of a target.
"""

from __future__ import annotations

from dataclasses import dataclass

WARN_AT = 0.8
LEVELS = ((2.0, 3), (1.5, 2), (1.0, 1))


@dataclass(frozen=True)
class Verdict:
    level: int  # the escalation level the clocks call for (0 = none)
    warn: tuple[str, ...]  # targets at 80 % or more but not yet missed: "response", "resolution"
    reason: str


def judge(response_fraction: float | None, resolution_fraction: float) -> Verdict:
    """`response_fraction` is None once the first response was given."""
    level = 0
    reason = ""
    for threshold, candidate in LEVELS:
        if resolution_fraction >= threshold:
            level = candidate
            reason = f"resolution target at {resolution_fraction:.0%}"
            break
    if level == 0 and response_fraction is not None and response_fraction >= 1.0:
        level, reason = 1, f"no first response; response target at {response_fraction:.0%}"
    warn = []
    if response_fraction is not None and WARN_AT <= response_fraction < 1.0:
        warn.append("response")
    if WARN_AT <= resolution_fraction < 1.0:
        warn.append("resolution")
    return Verdict(level, tuple(warn), reason)
