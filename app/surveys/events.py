"""What surveys do when something happens elsewhere, in the transaction that did it:

- a milestone done invites the project's contacts to the open event-triggered campaigns;
- an issue reopened withdraws its rating link still pending (app.surveys.ratings);
- an e-mail handed to the mail server marks its invitation delivered (app.surveys.bounces).

(Issues resolved are read by the send-invitations and send-rating-links jobs; app.issues imports
nothing of surveys, and app.core's outbox nothing of invitations: they only send signals.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.contacts.models import Milestone
from app.contacts.signals import milestone_done
from app.core.outbox_service import mail_sent
from app.issues.models import Issue
from app.issues.signals import issue_reopened
from app.surveys.bounces import record_delivered
from app.surveys.invitations import on_milestone_done
from app.surveys.ratings import withdraw_rating_links


@milestone_done.connect
def _invite_on_milestone(sender: Milestone, **kw: Any) -> None:
    on_milestone_done(sender, kw["now"])


@issue_reopened.connect
def _withdraw_rating_link(sender: Issue, **kw: Any) -> None:
    withdraw_rating_links(sender, kw["now"])


@mail_sent.connect
def _mark_delivered(sender: Any, *, keys: list[str], at: datetime, **kw: Any) -> None:
    record_delivered(keys, at)
