"""What surveys do when something happens elsewhere, in the transaction that did it:

- a milestone done invites the project's contacts to the open event-triggered campaigns;
- an issue reopened withdraws its rating link still pending (app.surveys.ratings).

(Issues resolved are read by the send-invitations and send-rating-links jobs; app.issues imports
nothing of surveys, it only sends its signals.)"""

from __future__ import annotations

from typing import Any

from app.contacts.models import Milestone
from app.contacts.signals import milestone_done
from app.issues.models import Issue
from app.issues.signals import issue_reopened
from app.surveys.invitations import on_milestone_done
from app.surveys.ratings import withdraw_rating_links


@milestone_done.connect
def _invite_on_milestone(sender: Milestone, **kw: Any) -> None:
    on_milestone_done(sender, kw["now"])


@issue_reopened.connect
def _withdraw_rating_link(sender: Issue, **kw: Any) -> None:
    withdraw_rating_links(sender, kw["now"])
