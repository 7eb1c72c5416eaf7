"""What surveys do when something happens elsewhere: a milestone done invites the project's
contacts to the open event-triggered campaigns, in the same transaction. (Issues resolved are
read by the send-invitations job: app.issues imports nothing of surveys and sends no signal.)"""

from __future__ import annotations

from typing import Any

from app.contacts.models import Milestone
from app.contacts.signals import milestone_done
from app.surveys.invitations import on_milestone_done


@milestone_done.connect
def _invite_on_milestone(sender: Milestone, **kw: Any) -> None:
    on_milestone_done(sender, kw["now"])
