"""The customer's answer page, public: /s/<token>.

The token from the e-mail is exchanged on first open for a short-lived signed cookie and the
browser is sent on to /s/, so the secret leaves the address bar and the history at once. The
form posts back to /s/ with the cookie and a key derived from it (the cookie's own CSRF guard;
the site-wide CSRF check is for signed-in staff). Integrations post JSON to /s/<token> instead.
Every response carries Referrer-Policy: no-referrer, no-store and a CSP without third parties.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as WerkzeugResponse

from app.core.errors import DomainError, RateLimited, ValidationFailed
from app.db import utcnow
from app.extensions import csrf, db
from app.issues.models import Issue
from app.surveys import drafts, ratelimit
from app.surveys.answers import (
    MAX_TEXT,
    AlreadyAnswered,
    Link,
    LinkInvalid,
    find_link,
    link_for_token,
    mark_opened,
    questionnaire,
    record_answers,
)
from app.surveys.ratings import rate_issue

bp = Blueprint("surveys_public", __name__, url_prefix="/s")
csrf.exempt(bp)

COOKIE = "survey_link"
COOKIE_AGE = 2 * 60 * 60  # seconds: long enough to answer, short enough to forget
MAX_BODY = 256 * 1024


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="survey-link")


def _form_key(cookie: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"survey-form:" + cookie.encode(), hashlib.sha256).hexdigest()


# the pages that only read once the rate counter is committed
READ_ONLY = frozenset({"surveys_public.answer", "surveys_public.rate"})


@bp.url_value_preprocessor
def _limit_request_size(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Before anything reads a body: a page of answers is far below this."""
    request.max_content_length = MAX_BODY


@bp.before_request
def _writes() -> None:
    """Requests that write (opening a link marks it opened; answering) take SQLite's write lock
    at BEGIN: a read transaction cannot be upgraded once another connection has written. The
    answer page itself only reads after the rate counter (which has its own short write
    transaction, ratelimit.writing), so it does not hold the write lock while it renders and
    other customers' submits are not queued behind it. The app's teardown restores the mode."""
    from app import sqlite_begin

    if request.endpoint not in READ_ONLY:
        sqlite_begin.set("BEGIN IMMEDIATE")


@bp.after_request
def _headers(response: WerkzeugResponse) -> WerkzeugResponse:
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    return response


def _locale() -> str:
    return str(get_locale() or "zh")


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _limited() -> Any:
    if _wants_json():
        body = {
            "error": {
                "code": RateLimited.code,
                "message": RateLimited.default_message,
                "fields": {},
            }
        }
        return jsonify(body), 429
    return render_template("surveys/link_message.html", kind="rate_limited"), 429


def _throttle(kind: str) -> bool:
    """Count this request; a client that has used up its bad links is refused everything, so
    a guess that happens to hit a real link looks like every other guess."""
    now = utcnow()
    # End any read the request has made (a failed link lookup): on SQLite a read transaction
    # cannot be upgraded to a write once another connection has written, and nothing is pending.
    db.session.rollback()
    with ratelimit.writing():
        if kind == "all" and ratelimit.over("bad", request.remote_addr, now):
            db.session.rollback()
            return False
        return ratelimit.hit(kind, request.remote_addr, now)


def _invalid() -> Any:
    """The one answer for every bad link."""
    if not _throttle("bad"):
        return _limited()
    if _wants_json():
        body = {
            "error": {
                "code": LinkInvalid.code,
                "message": LinkInvalid.default_message,
                "fields": {},
            }
        }
        return jsonify(body), 404
    return render_template("surveys/link_message.html", kind="invalid"), 404


def _message(error: str) -> str:
    """A service message in the customer's language."""
    if error == "required":
        return str(_("Please answer this question."))
    if error == "one of the options":
        return str(_("Please choose one of the options."))
    if error.startswith("at most"):
        return str(_("Please write at most %(n)s characters.", n=f"{MAX_TEXT:,}"))
    if " to " in error:
        low, _sep, high = error.partition(" to ")
        return str(_("Please choose a number from %(low)s to %(high)s.", low=low, high=high))
    return str(_("This answer is not valid."))


def _end_reads() -> None:
    """End the request's transaction with COMMIT before rendering; nothing is pending by then
    (every caller has committed or rolled back its writes, the page itself only reads).
    Leaving it to the teardown's ROLLBACK cost the database server more than the whole page:
    psycopg forgets every statement it has prepared on a connection at each ROLLBACK, so the
    link's lookup was planned anew on every request (1 ms of the server's CPU on PostgreSQL,
    where running it takes 0.1 ms). The page's objects are plain copies, which a commit does
    not expire, and the connection goes back to the pool before the template runs."""
    db.session.commit()


def _page(
    link: Link,
    *,
    page: int | str | None = None,
    kept: drafts.Kept | None = None,
    answers: Any = None,
    errors: Any = None,
    status: int = 200,
) -> Any:
    """One page of the questionnaire, filled in with what the customer has answered so far."""
    invitation = link.invitation
    if invitation.survey_id is None:
        raise LinkInvalid()
    asked = questionnaire(invitation.survey_id)
    pages = drafts.paginate(asked.questions)
    if kept is None:
        # a questionnaire on one page has no draft: its one form is the whole answer
        kept = drafts.kept(link) if len(pages) > 1 else drafts.Kept({}, 1)
    number = drafts.clamp(kept.page if page is None else page, len(pages))
    cookie = request.cookies.get(COOKIE, "")
    _end_reads()
    return render_template(
        "surveys/answer.html",
        survey=asked,
        questions=pages[number - 1],
        start=sum(len(p) for p in pages[: number - 1]),
        page=number,
        pages=len(pages),
        contact=invitation.contact,
        answers=kept.answers if answers is None else answers,
        errors={key: _message(str(e)) for key, e in (errors or {}).items()},
        form_key=_form_key(cookie) if cookie else "",
        lang=_locale(),
    ), status


def _thanks(status: int = 200) -> Any:
    return render_template("surveys/link_message.html", kind="thanks"), status


def _exchange(token: str, purpose: str, cookie: str, endpoint: str, path: str) -> Any:
    """First open: check the link, trade it for a cookie, continue without it in the URL."""
    if not _throttle("all"):
        return _limited()
    now = utcnow()
    try:
        link = link_for_token(token, now, purpose=purpose)
    except LinkInvalid:
        return _invalid()
    lang = request.args.get("lang") or link.invitation.contact.language
    mark_opened(link.invitation, now)
    db.session.commit()
    response = redirect(url_for(endpoint, lang=lang), code=303)
    response.set_cookie(
        cookie,
        _serializer().dumps({"h": link.token_hash}),
        max_age=COOKIE_AGE,
        path=path,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


@bp.get("/<token>")
def open_link(token: str) -> Any:
    return _exchange(token, "survey", COOKIE, "surveys_public.answer", "/s/")


def _link_from_cookie(
    *, allow_answered: bool = False, cookie: str = COOKIE, purpose: str = "survey"
) -> Link:
    raw = request.cookies.get(cookie, "")
    try:
        data = _serializer().loads(raw, max_age=COOKIE_AGE) if raw else None
    except BadSignature:
        data = None
    token_hash = data.get("h") if isinstance(data, dict) else None
    if not isinstance(token_hash, str) or len(token_hash) != 64:
        raise LinkInvalid()
    return find_link(token_hash, utcnow(), allow_answered=allow_answered, purpose=purpose)


@bp.get("/")
def answer() -> Any:
    if not _throttle("all"):
        return _limited()
    try:
        link = _link_from_cookie()
    except LinkInvalid:
        return _invalid()
    return _page(link, page=request.args.get("page"))


def _submit(link: Link, raw: Any, *, strict: bool) -> Any:
    try:
        record_answers(link, raw, language=_locale(), now=utcnow(), strict=strict)
        db.session.commit()
    except AlreadyAnswered:
        db.session.rollback()
        raise
    except ValidationFailed:
        db.session.rollback()
        raise
    return None


@bp.post("/")
def submit_form() -> Any:
    """A page of the form: "next" and "back" keep its answers in the draft and move on (a
    redirect, so reloading repeats nothing); "send" (the last page, or a form without pages)
    records the draft and this page together as the response."""
    if not _throttle("all"):
        return _limited()
    try:
        link = _link_from_cookie(allow_answered=True)
    except LinkInvalid:
        return _invalid()
    cookie = request.cookies.get(COOKIE, "")
    if not hmac.compare_digest(request.form.get("_key", ""), _form_key(cookie)):
        return _invalid()
    invitation = link.invitation
    if invitation.responded_at is not None or invitation.survey_id is None:
        return _thanks()  # a double click or a retry: the same thank-you, nothing changes
    raw = request.form.to_dict()
    pages = drafts.paginate(questionnaire(invitation.survey_id).questions)
    paged = "_page" in raw and len(pages) > 1
    kept = drafts.kept(link) if len(pages) > 1 else drafts.Kept({}, 1)
    number = drafts.clamp(raw.get("_page"), len(pages)) if paged else len(pages)
    on_page = pages[number - 1] if paged else None
    action = raw.get("_action", "send")
    now = utcnow()
    if on_page is not None and action in ("next", "back"):
        forward = action == "next"
        go_to = drafts.clamp(number + (1 if forward else -1), len(pages))
        errors = drafts.save_page(link, kept, on_page, raw, go_to=go_to, require=forward, now=now)
        db.session.commit()
        if errors:
            shown = drafts.merged(kept, on_page, raw)
            return _page(link, page=number, kept=kept, answers=shown, errors=errors, status=422)
        return redirect(url_for("surveys_public.answer", page=go_to, lang=_locale()), code=303)
    answers = drafts.merged(kept, on_page, raw)
    try:
        _submit(link, answers, strict=False)
    except AlreadyAnswered:
        return _thanks()
    except ValidationFailed as exc:
        # show the first page with a missing or wrong answer; keep this page's answers
        first = drafts.first_page_with(pages, exc.fields) or number
        if on_page is not None:
            drafts.save_page(link, kept, on_page, raw, go_to=first, require=False, now=now)
            db.session.commit()
        return _page(link, page=first, kept=kept, answers=answers, errors=exc.fields, status=422)
    return _thanks()


@bp.post("/<token>")
def submit_with_token(token: str) -> Any:
    """For integrations and a form posted with the token itself: JSON {"answers": {...}} →
    {"status": "recorded"}, 409 already_answered; or form fields named by question key."""
    if not _throttle("all"):
        return _limited()
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(
            {"error": {"code": "payload_too_large", "message": "Too large.", "fields": {}}}
        ), 413
    now = utcnow()
    try:
        link = link_for_token(token, now, allow_answered=True)
    except LinkInvalid:
        return _invalid()
    if request.is_json:
        body = request.get_json(silent=True)
        answers = body.get("answers") if isinstance(body, dict) else None
        if not isinstance(answers, dict):
            return jsonify(
                {
                    "error": {
                        "code": "bad_request",
                        "message": 'Send {"answers": {key: value}}.',
                        "fields": {"answers": "an object"},
                    }
                }
            ), 400
        try:
            if link.invitation.responded_at is not None:
                raise AlreadyAnswered()
            _submit(link, answers, strict=True)
        except DomainError as exc:
            return jsonify(
                {"error": {"code": exc.code, "message": exc.message, "fields": exc.fields}}
            ), exc.status
        return jsonify({"status": "recorded"}), 200
    if link.invitation.responded_at is not None:
        return _thanks()
    kept = drafts.kept(link)
    answers = drafts.merged(kept, None, request.form.to_dict())
    try:
        _submit(link, answers, strict=False)
    except AlreadyAnswered:
        return _thanks()
    except ValidationFailed as exc:
        pages = drafts.paginate(questionnaire(link.invitation.survey_id or 0).questions)
        first = drafts.first_page_with(pages, exc.fields) or 1
        return _page(link, page=first, kept=kept, answers=answers, errors=exc.fields, status=422)
    return _thanks()


# --- close and rate by link ---------------------------------------------------------------------

RATE_COOKIE = "rating_link"


@bp.get("/rate/<token>")
def open_rating(token: str) -> Any:
    return _exchange(token, "issue_rating", RATE_COOKIE, "surveys_public.rate", "/s/rate/")


def _rate_page(link: Link, values: Any = None, errors: Any = None, status: int = 200) -> Any:
    cookie = request.cookies.get(RATE_COOKIE, "")
    issue = db.session.get(Issue, link.invitation.issue_id)
    return render_template(
        "surveys/rate.html",
        issue=issue,
        contact=link.invitation.contact,
        values=values or {},
        errors={key: _message(str(e)) for key, e in (errors or {}).items()},
        form_key=_form_key(cookie) if cookie else "",
    ), status


@bp.get("/rate/")
def rate() -> Any:
    if not _throttle("all"):
        return _limited()
    try:
        link = _link_from_cookie(cookie=RATE_COOKIE, purpose="issue_rating")
    except LinkInvalid:
        return _invalid()
    return _rate_page(link)


@bp.post("/rate/")
def submit_rating() -> Any:
    if not _throttle("all"):
        return _limited()
    try:
        link = _link_from_cookie(allow_answered=True, cookie=RATE_COOKIE, purpose="issue_rating")
    except LinkInvalid:
        return _invalid()
    cookie = request.cookies.get(RATE_COOKIE, "")
    if not hmac.compare_digest(request.form.get("_key", ""), _form_key(cookie)):
        return _invalid()
    raw = request.form.to_dict()
    try:
        rate_issue(link, raw, now=utcnow())
        db.session.commit()
    except AlreadyAnswered:
        db.session.rollback()
        return _thanks()
    except LinkInvalid:  # withdrawn between reading the link and claiming it
        db.session.rollback()
        return _invalid()
    except ValidationFailed as exc:
        db.session.rollback()
        return _rate_page(link, values=raw, errors=exc.fields, status=422)
    return _thanks()
