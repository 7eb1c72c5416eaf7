"""/api/v1/voices: record customer voices from any channel, list and search them, read one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from app.api import api_user, make_blueprint, page_args
from app.api.issue_schemas import ErrorEnvelopeSchema
from app.api.voice_schemas import VoiceCreateSchema, VoiceDetailSchema, VoicePage, VoiceQuery
from app.api.voice_schemas import VoiceSchema as VoiceOut
from app.core.scoping import Scope
from app.extensions import db
from app.voice import queries, services
from app.voice.models import Voice

F = TypeVar("F", bound=Callable[..., Any])

voices = make_blueprint("voices_api", "/voices", "Customer voices (客户声音): every channel")
BLUEPRINTS = [voices]

ERRORS = {
    400: "malformed JSON or cursor",
    404: "no such voice, or not in the caller's scope",
    409: "`conflict`: the external_id is already used in that office and channel",
    422: "invalid fields; `fields` names each",
}


def errors(*codes: int) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        for code in codes:
            view = voices.alt_response(code, schema=ErrorEnvelopeSchema, description=ERRORS[code])(
                view
            )
        return view

    return decorate


def _scope() -> Scope:
    return Scope.for_user(api_user())


class VoiceDetail:
    """A voice plus its issue links, repeats and source, for VoiceDetailSchema."""

    def __init__(self, voice: Voice) -> None:
        self._voice = voice
        links = queries.voice_links(_scope(), voice)
        self.issues = [
            {"kind": i.kind, "issue_id": i.issue_id, "number": i.number, "status": i.status}
            for i in links.issues
        ]
        self.repeat_of = (
            {"id": links.repeat_of.id, "reference": links.repeat_of.reference}
            if links.repeat_of
            else None
        )
        self.repeats = [{"id": r.id, "reference": r.reference} for r in links.repeats]
        self.source = (
            {
                "import_id": links.source.id,
                "filename": links.source.filename,
                "row": voice.import_row,
            }
            if links.source
            else None
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._voice, name)


@voices.route("", methods=["POST"])
@voices.arguments(VoiceCreateSchema)
@voices.response(201, VoiceOut)
@errors(400, 409, 422)
def create_voice(data: dict[str, Any]) -> Voice:
    """Record a voice. `kind` (passive/active) follows from the channel. A customer outside the
    caller's offices is unknown (422 on `customer_id`); an `external_id` already used in that
    office and channel is 409 `conflict` naming the voice that has it."""
    voice = services.create_voice(
        actor=api_user(),
        channel=data["channel"],
        text=data["text"],
        office_code=data["office"],
        customer_id=data["customer_id"],
        dimension=data["dimension"],
        category=data["category"],
        sentiment=data["sentiment"],
        occurred_at=data["occurred_at"],
        details=data["details"],
        contact_name=data["contact_name"],
        contact_phone=data["contact_phone"],
        contact_email=data["contact_email"],
        external_id=data["external_id"],
    )
    db.session.commit()
    return voice


@voices.route("", methods=["GET"])
@voices.arguments(VoiceQuery, location="query")
@voices.response(200, VoicePage)
@errors(400, 422)
def list_voices(args: dict[str, Any]) -> Any:
    """Voices in the caller's scope, newest first (keyset on occurred_at, id); `q` matches any
    part of the text."""
    limit, cursor = page_args(args)
    f = queries.VoiceFilters(
        channel=args["channel"],
        kind=args["kind"],
        dimension=args["dimension"],
        category=args["category"],
        sentiment=args["sentiment"],
        office_code=args["office"],
        customer_id=args["customer_id"],
        date_from=args["occurred_from"],
        date_to=args["occurred_to"],
        q=args["q"],
        tz=current_app.config["TIMEZONE"],
    )
    page = queries.list_voices(_scope(), f, limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@voices.route("/<int:voice_id>", methods=["GET"])
@voices.response(200, VoiceDetailSchema)
@errors(404)
def get_voice(voice_id: int) -> Any:
    """One voice with the issues it raised or repeats, its group of repeats and its source."""
    return VoiceDetail(queries.get_voice(_scope(), voice_id))
