"""What an issue's e-mail is, read back from its outbox key (pure)."""

from __future__ import annotations

import pytest

from app.issues.notifications import Kind, kind_of


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("escalation:12:2:7", Kind("escalation", level=2)),
        ("low-rating:12:0:7", Kind("low_rating")),
        ("sla-warning:12:resolution:1:7", Kind("sla_warning", target="resolution")),
        ("rating:99", Kind("rating_link")),
        ("escalation:12:x:7", Kind("other")),
        ("invitation:5:0", Kind("other")),
        ("", Kind("other")),
    ],
)
def test_kind_of_reads_the_key(key, kind):
    assert kind_of(key) == kind
