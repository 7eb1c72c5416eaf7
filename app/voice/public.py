"""Public web feedback (网络反馈): /feedback, for customers, without an account.

A phone-first page in Chinese (English with ?lang=en) that stores what the customer writes as
a `web` voice through record_voice and answers with the voice's reference, the confirmation
number to quote later. It is open to anyone, so it defends itself:

- a rate limit per client address on page views and on submissions, counted in the database
  (app.core.ratelimit) so that it holds across workers and hosts → 429 with a friendly page;
- a honeypot field and a signed "form served at" time: a filled honeypot, a missing or forged
  time, or an answer within FEEDBACK_MIN_FILL_SECONDS is a bot, which is shown the usual
  confirmation with a reference that was never stored (so it learns nothing);
- a small request size limit (413 with a friendly page), CSRF as everywhere, and headers that
  keep the page from leaking where the customer came from or being framed.

The confirmation page shows the reference kept in the submitter's own (signed) session and
nothing else, so it cannot be used to read anybody's feedback.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, Signer
from werkzeug.exceptions import RequestEntityTooLarge

from app.core import ratelimit
from app.core.errors import ValidationFailed
from app.core.fields import strip_control_characters
from app.extensions import db
from app.org.models import Office
from app.voice.public_forms import MAX_TEXT, FeedbackForm
from app.voice.services import new_reference, record_voice

log = logging.getLogger(__name__)

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

SESSION_KEY = "feedback_reference"
DEFAULTS: dict[str, int] = {
    "FEEDBACK_POST_LIMIT": 5,  # submissions per client ...
    "FEEDBACK_POST_WINDOW_SECONDS": 10 * 60,  # ... in this window
    "FEEDBACK_GET_LIMIT": 60,  # page views per client ...
    "FEEDBACK_GET_WINDOW_SECONDS": 10 * 60,  # ... in this window
    "FEEDBACK_MIN_FILL_SECONDS": 2,  # faster than this is a bot
    "FEEDBACK_MAX_FORM_AGE_SECONDS": 24 * 3600,  # an older form is refused politely
    # 5,000 Chinese characters are 45 KB once percent-encoded; the rest of the form is small
    "FEEDBACK_MAX_BYTES": 64 * 1024,
    "FEEDBACK_TRUSTED_PROXIES": 0,  # reverse proxies of ours in front (see client_key)
}
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    # the form holds a CSRF token, the confirmation a reference: neither belongs in a cache
    "Cache-Control": "no-store",
}


def setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


# --- request guards ---------------------------------------------------------------------------


@bp.url_value_preprocessor
def _limit_request_size(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Runs before any before_request function (CSRF reads the form there), so the small
    limit applies to every read of this blueprint's request bodies."""
    request.max_content_length = setting("FEEDBACK_MAX_BYTES")


@bp.after_request
def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def client_key() -> str:
    """The client's address. Behind N reverse proxies of our own (FEEDBACK_TRUSTED_PROXIES=N),
    it is the N-th address from the right of X-Forwarded-For (the ones further left are
    whatever the client claimed); otherwise the peer address."""
    trusted = setting("FEEDBACK_TRUSTED_PROXIES")
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if trusted > 0 and len(forwarded) >= trusted:
        return f"ip:{forwarded[-trusted][:64]}"
    return f"ip:{request.remote_addr or 'unknown'}"


def _over_limit(kind: str) -> ratelimit.Decision | None:
    decision = ratelimit.hit(
        f"feedback-{kind}:{client_key()}",
        limit=setting(f"FEEDBACK_{kind.upper()}_LIMIT"),
        window_seconds=setting(f"FEEDBACK_{kind.upper()}_WINDOW_SECONDS"),
    )
    return None if decision.allowed else decision


def _error_page(status: int, retry_after: int | None = None) -> Any:
    response = make_response(
        render_template("feedback/error.html", status=status, **_links()), status
    )
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Any:
    return _error_page(413)


@bp.errorhandler(CSRFError)
def _csrf_failed(_exc: CSRFError) -> Any:
    # typically a page left open in a browser whose session has since been cleared
    return _error_page(400)


# --- the signed "form served at" time ---------------------------------------------------------


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt="feedback-form-started")


def fill_token(at_ms: int | None = None) -> str:
    """When the form was served (milliseconds), signed so that a bot cannot backdate it."""
    return _signer().sign(str(at_ms if at_ms is not None else now_ms())).decode()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _form_age_seconds(token: str | None) -> float | None:
    """Seconds since the form was served, or None when the token is missing or forged."""
    if not token:
        return None
    try:
        value = _signer().unsign(token.encode()).decode()
        return (now_ms() - int(value)) / 1000
    except (BadSignature, ValueError):
        return None


# --- pages ------------------------------------------------------------------------------------


def _lang() -> str | None:
    return "en" if str(get_locale()) == "en" else None


def _offices() -> list[Office]:
    return list(db.session.scalars(sa.select(Office).order_by(Office.region_id, Office.code)))


def _links(office: str | None = None, *, from_request: bool = True) -> dict[str, Any]:
    """URLs of this page in both languages (the link's office kept) and of a fresh form."""
    if office is None and from_request:
        office = (request.args.get("office") or "").strip()[:32] or None
    return {
        "url_zh": url_for(request.endpoint or "feedback.form", office=office),
        "url_en": url_for(request.endpoint or "feedback.form", office=office, lang="en"),
        "form_url": url_for("feedback.form", office=office, lang=_lang()),
    }


@bp.route("", methods=["GET", "POST"])
def form() -> Any:
    over = _over_limit("post" if request.method == "POST" else "get")
    if over is not None:
        return _error_page(429, over.retry_after)
    offices = _offices()
    by_code = {o.code: o for o in offices}
    fixed = by_code.get((request.args.get("office") or "").strip().upper())
    choices = [(fixed.code, fixed.name)] if fixed else [(o.code, o.name) for o in offices]
    form = FeedbackForm(offices=choices)
    if fixed is not None:
        form.office.data = fixed.code
    expired = False
    if form.validate_on_submit():
        outcome, reference = _handle_valid(form)
        if reference is not None:
            session[SESSION_KEY] = reference
            return redirect(url_for("feedback.thanks", lang=_lang()))
        expired = outcome == "expired"
    form.started.data = fill_token()
    form.homepage.data = ""
    return render_template(
        "feedback/form.html",
        form=form,
        fixed_office=fixed,
        expired=expired,
        max_text=MAX_TEXT,
        **_links(fixed.code if fixed else None, from_request=False),
    )


def _handle_valid(form: FeedbackForm) -> tuple[str, str | None]:
    """("stored", reference); ("bot", a reference never stored); ("expired", None) for a form
    kept open too long; ("refused", None) when the service refused the input (errors on the
    form)."""
    age = _form_age_seconds(form.started.data)
    if form.homepage.data or age is None or age < setting("FEEDBACK_MIN_FILL_SECONDS"):
        reason = "honeypot" if form.homepage.data else "no form time" if age is None else "fast"
        log.info("feedback from %s taken for a bot (%s); nothing stored", client_key(), reason)
        return "bot", new_reference()
    if age > setting("FEEDBACK_MAX_FORM_AGE_SECONDS"):
        return "expired", None
    try:
        # control characters a customer cannot see are dropped, not refused (as survey
        # answers do): staff and integrations hear 422 for them (app.core.fields)
        voice = record_voice(
            actor=None,
            channel="web",
            text=strip_control_characters(form.text.data or ""),
            office_code=form.office.data,
            dimension=form.about.data or None,
            contact_name=strip_control_characters(form.name.data or "") or None,
            contact_phone=form.phone_digits(),
            contact_email=strip_control_characters(form.email.data or "").strip() or None,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        for name, message in exc.fields.items():
            field = {"contact_name": "name", "contact_phone": "phone", "contact_email": "email"}
            target = getattr(form, field.get(name, name), None)
            if target is not None and hasattr(target, "errors"):
                target.errors = [*list(target.errors), message]
            else:
                form.form_errors.append(message)
        return "refused", None
    db.session.commit()
    return "stored", str(voice.reference)


@bp.get("/thanks")
def thanks() -> Any:
    over = _over_limit("get")
    if over is not None:
        return _error_page(429, over.retry_after)
    return render_template("feedback/thanks.html", reference=session.get(SESSION_KEY), **_links())
