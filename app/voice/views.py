"""Voice pages: the inbox, the quick form for any channel, the voice page with its actions,
and the repeat-candidates JSON used while typing (here and on the hotline screen)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth.models import User
from app.core.errors import Conflict, DomainError, ValidationFailed
from app.core.scoping import Scope
from app.customers.models import Customer
from app.extensions import db
from app.issues import labels
from app.issues.models import Category, Issue
from app.org.models import Office
from app.voice import display, problems, queries, repeats, services
from app.voice import events as _receivers  # noqa: F401  (connects them)
from app.voice.channels import CHANNEL_FIELDS, DETAIL_FIELDS
from app.voice.forms import DismissForm, FilterForm, LinkForm, PlainForm, RaiseForm, VoiceForm
from app.voice.models import Voice

bp = Blueprint("voice", __name__, url_prefix="/voices")
PAGE_SIZE = 50


@bp.before_request
@login_required
def _signed_in() -> None:
    return None


def _scope() -> Scope:
    return Scope.for_user(current_user)


def _categories() -> list[tuple[str, str]]:
    rows = db.session.scalars(
        sa.select(Category).where(Category.active.is_(True)).order_by(Category.position)
    )
    return [(c.code, labels.localized(c)) for c in rows]


def _offices() -> list[tuple[str, str]]:
    rows = db.session.scalars(
        sa.select(Office).where(_scope().office_filter(Office.id)).order_by(Office.code)
    )
    return [(o.code, f"{o.code} · {o.name}") for o in rows]


def _zone(office: Any) -> ZoneInfo:
    return ZoneInfo(office.timezone if office is not None else current_app.config["TIMEZONE"])


def _local(voice: Voice) -> datetime:
    return voice.occurred_at.astimezone(_zone(voice.office))


# --- the inbox -----------------------------------------------------------------------------------


def _filters(form: FilterForm) -> queries.VoiceFilters:
    def ok(field: Any) -> Any:
        return None if field.errors else (field.data or None)

    return queries.VoiceFilters(
        channel=ok(form.channel),
        kind=ok(form.kind),
        dimension=ok(form.dimension),
        category=ok(form.category),
        sentiment=ok(form.sentiment),
        office_code=ok(form.office),
        customer_id=ok(form.customer_id),
        date_from=ok(form.date_from),
        date_to=ok(form.date_to),
        q=(form.q.data or "").strip() or None,
        tz=current_app.config["TIMEZONE"],
    )


@bp.get("/")
def index() -> Any:
    form = FilterForm(
        request.args,
        offices=_offices(),
        categories=_categories(),
        channels=labels.pairs(labels.CHANNEL),
    )
    form.validate()
    page = queries.list_voices(
        _scope(), _filters(form), limit=PAGE_SIZE, cursor=request.args.get("cursor") or None
    )
    rows = [
        {
            "voice": v,
            "when": _local(v),
            "channel": str(labels.CHANNEL[v.channel]),
            "kind": str(display.KIND[v.kind]),
            "dimension": str(display.DIMENSION[v.dimension]) if v.dimension else "",
            "sentiment": str(display.SENTIMENT[v.sentiment]) if v.sentiment else "",
            "category": labels.localized(v.category) if v.category else "",
        }
        for v in page.items
    ]
    args = {k: v for k, v in request.args.items() if k != "cursor" and v}
    return render_template("voices/index.html", rows=rows, page=page, form=form, args=args)


# --- the quick form ------------------------------------------------------------------------------


def _voice_form(**kwargs: Any) -> VoiceForm:
    form = VoiceForm(offices=_offices(), categories=_categories(), **kwargs)
    if request.method == "GET" and current_user.office is not None:
        form.office.data = current_user.office.code
    return form


def _occurred_at(form: VoiceForm) -> datetime | None:
    value: datetime | None = form.occurred_at.data
    if value is None:
        return None
    office = db.session.scalars(sa.select(Office).where(Office.code == form.office.data)).first()
    return value.replace(tzinfo=_zone(office or current_user.office))


def _apply_errors(form: Any, exc: DomainError) -> None:
    for name, english in exc.fields.items():
        # a coded problem in the page's language; other messages as the service wrote them
        code = problems.code_of(english)
        message = (
            problems.localized(code["code"], code["params"], english) if code else str(english)
        )
        attr = f"detail_{name[8:]}" if name.startswith("details.") else name
        field = getattr(form, attr, None)
        if field is not None and hasattr(field, "errors") and name != "customer_id":
            field.errors = [*list(field.errors), message]
        else:
            form.form_errors.append(f"{name}: {message}")
    if not exc.fields:
        form.form_errors.append(exc.message)


def _save_quick(form: VoiceForm) -> Voice:
    customer_id = int(form.customer_id.data) if (form.customer_id.data or "").isdigit() else None
    voice = services.create_voice(
        actor=current_user,
        channel=form.channel.data,
        text=form.text.data,
        office_code=form.office.data or None,
        customer_id=customer_id,
        dimension=form.dimension.data or None,
        category=form.category.data or None,
        sentiment=form.sentiment.data or None,
        occurred_at=_occurred_at(form),
        details=form.details(),
        contact_name=form.contact_name.data or None,
        contact_phone=form.contact_phone.data or None,
    )
    for kind, ident in repeats.parse_targets(form.repeat_target.data)[:1]:
        services.link_repeat(
            actor=current_user, voice_id=voice.id, target_kind=kind, target_id=ident
        )
    for kind, ident in repeats.parse_targets(form.dismissed.data):
        services.dismiss_repeat(
            actor=current_user, voice_id=voice.id, target_kind=kind, target_id=ident
        )
    return voice


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    """Log a voice from any channel, keyboard first."""
    form = _voice_form()
    if form.validate_on_submit():
        try:
            voice = _save_quick(form)
        except DomainError as exc:
            db.session.rollback()
            _apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Voice %(ref)s recorded.", ref=voice.reference), "success")
            return redirect(url_for("voice.new", last=voice.id, channel=voice.channel))
    elif request.method == "GET" and request.args.get("channel") in labels.CHANNEL:
        form.channel.data = request.args["channel"]
    last = None
    if request.args.get("last", "").isdigit() and len(request.args["last"]) <= 18:
        try:
            last = queries.get_voice(_scope(), int(request.args["last"]))
        except DomainError:
            last = None
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "voices/new.html",
        form=form,
        last=last,
        channel_fields=CHANNEL_FIELDS,
        detail_fields=DETAIL_FIELDS,
        classify_url=url_for("voice.index") + "classify",
    ), status


# --- the voice page ------------------------------------------------------------------------------


def _render_detail(voice: Voice, *, raise_form: RaiseForm | None = None, status: int = 200) -> Any:
    scope = _scope()
    links = queries.voice_links(scope, voice)
    events = queries.voice_history(voice)
    names = dict(
        db.session.execute(
            sa.select(User.id, User.name).where(
                User.id.in_({e.actor_id for e in events if e.actor_id})
            )
        ).all()
    )
    form = raise_form or RaiseForm(
        priorities=labels.pairs(labels.PRIORITY), categories=_categories()
    )
    if raise_form is None and voice.category is not None:
        form.category.data = voice.category.code
    if raise_form is None:
        form.title.data = services.title_from_text(voice.text)
    return render_template(
        "voices/detail.html",
        voice=voice,
        when=_local(voice),
        channel=str(labels.CHANNEL[voice.channel]),
        kind=str(display.KIND[voice.kind]),
        dimension=str(display.DIMENSION[voice.dimension]) if voice.dimension else None,
        sentiment=str(display.SENTIMENT[voice.sentiment]) if voice.sentiment else None,
        category=labels.localized(voice.category) if voice.category else None,
        details=[(str(display.DETAIL.get(k, k)), v) for k, v in sorted(voice.details.items())],
        links=links,
        # a voice raises one issue (services.raise_issue): once raised, the form is not offered
        may_raise=not any(link.kind == "raised" for link in links.issues),
        status_labels={k: str(v) for k, v in labels.STATUS.items()},
        channel_labels={k: str(v) for k, v in labels.CHANNEL.items()},
        candidates=repeats.candidates_for_voice(scope, voice),
        history=[
            (e, names.get(e.actor_id or 0), str(display.VOICE_ACTION.get(e.action, e.action)))
            for e in events
        ],
        raise_form=form,
        link_form=LinkForm(),
        dismiss_form=DismissForm(),
        plain_form=PlainForm(),
    ), status


@bp.get("/<int:voice_id>")
def detail(voice_id: int) -> Any:
    return _render_detail(queries.get_voice(_scope(), voice_id))


@bp.post("/<int:voice_id>/raise")
def raise_issue(voice_id: int) -> Any:
    voice = queries.get_voice(_scope(), voice_id)
    form = RaiseForm(priorities=labels.pairs(labels.PRIORITY), categories=_categories())
    if not form.validate_on_submit():
        flash(_("Please check the form."), "danger")
        return _render_detail(voice, raise_form=form, status=422)
    try:
        issue = services.raise_issue(
            actor=current_user,
            voice_id=voice.id,
            title=form.title.data,
            priority=form.priority.data,
            category=form.category.data or None,
        )
    except DomainError as exc:
        db.session.rollback()
        flash("; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.message, "danger")
        return _render_detail(
            queries.get_voice(_scope(), voice_id), raise_form=form, status=exc.status
        )
    db.session.commit()
    flash(_("Issue %(number)s accepted from this voice.", number=issue.number), "success")
    return redirect(url_for("issues.detail", issue_id=issue.id))


def _resolve_target(form: LinkForm) -> tuple[str, int]:
    kind, ident = form.target_kind.data or "", form.target_id.data or ""
    if kind in ("voice", "issue") and ident.isdigit() and len(ident) <= 18:
        return kind, int(ident)
    text = (form.target.data or "").strip().upper()
    scope = _scope()
    if text.startswith("V-"):
        found = db.session.scalars(
            sa.select(Voice.id).where(Voice.reference == text, scope.office_filter(Voice.office_id))
        ).first()
        if found is not None:
            return "voice", found
    elif text:
        found = db.session.scalars(
            sa.select(Issue.id).where(Issue.number == text, scope.office_filter(Issue.office_id))
        ).first()
        if found is not None:
            return "issue", found
    raise ValidationFailed(fields={"target": _("No issue or voice with that number here.")})


@bp.post("/<int:voice_id>/link")
def link(voice_id: int) -> Any:
    voice = queries.get_voice(_scope(), voice_id)
    form = LinkForm()
    if not form.validate_on_submit():
        flash(_("Please check the form."), "danger")
        return _render_detail(voice, status=422)
    try:
        kind, ident = _resolve_target(form)
        services.link_repeat(
            actor=current_user, voice_id=voice.id, target_kind=kind, target_id=ident
        )
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        flash("; ".join(str(v) for v in exc.fields.values()) or exc.message, "danger")
        return _render_detail(queries.get_voice(_scope(), voice_id), status=exc.status)
    db.session.commit()
    flash(_("Linked as a repeat."), "success")
    return redirect(url_for("voice.detail", voice_id=voice_id))


@bp.post("/<int:voice_id>/unlink")
def unlink(voice_id: int) -> Any:
    voice = queries.get_voice(_scope(), voice_id)
    if not PlainForm().validate_on_submit():
        return _render_detail(voice, status=400)
    try:
        services.unlink_repeat(actor=current_user, voice_id=voice.id)
    except ValidationFailed as exc:
        db.session.rollback()
        flash("; ".join(str(v) for v in exc.fields.values()), "danger")
        return _render_detail(queries.get_voice(_scope(), voice_id), status=exc.status)
    db.session.commit()
    flash(_("The voice is no longer marked as a repeat."), "success")
    return redirect(url_for("voice.detail", voice_id=voice_id))


@bp.post("/<int:voice_id>/dismiss")
def dismiss(voice_id: int) -> Any:
    voice = queries.get_voice(_scope(), voice_id)
    form = DismissForm()
    ident = form.target_id.data or ""
    if not form.validate_on_submit() or not ident.isdigit() or len(ident) > 18:
        flash(_("Please check the form."), "danger")
        return _render_detail(voice, status=422)
    try:
        services.dismiss_repeat(
            actor=current_user,
            voice_id=voice.id,
            target_kind=form.target_kind.data,
            target_id=int(ident),
        )
    except ValidationFailed as exc:
        db.session.rollback()
        flash("; ".join(str(v) for v in exc.fields.values()), "danger")
        return _render_detail(queries.get_voice(_scope(), voice_id), status=exc.status)
    db.session.commit()
    flash(_("Suggestion dismissed; it will not be offered again for this voice."), "success")
    return redirect(url_for("voice.detail", voice_id=voice_id) + "#repeats")


# --- repeat candidates while typing --------------------------------------------------------------


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 18 else None


@bp.get("/repeats")
def repeat_candidates() -> Any:
    """Likely repeats of what is being typed: `text`, and `customer_id`, `category` (code),
    `office` (code) as known so far. Used by the quick form and the hotline screen."""
    scope = _scope()
    text = request.args.get("text", "")[:2000]
    customer = None
    customer_id = _int_arg("customer_id")
    if customer_id is not None:
        customer = db.session.scalars(
            sa.select(Customer).where(
                Customer.id == customer_id, scope.office_filter(Customer.office_id)
            )
        ).first()
    office = None
    code = (request.args.get("office") or "").strip().upper()
    if code:
        office = db.session.scalars(sa.select(Office).where(Office.code == code)).first()
        office = office if scope.covers_office(office) else None
    office_id = (
        office.id if office else (customer.office_id if customer else current_user.office_id)
    )
    category_id = None
    if request.args.get("category"):
        category_id = db.session.scalars(
            sa.select(Category.id).where(Category.code == request.args["category"])
        ).first()
    found = repeats.find_candidates(
        scope,
        text=text,
        customer_id=customer.id if customer else None,
        office_id=office_id,
        category_id=category_id,
    )
    return jsonify(
        {
            "items": [
                {
                    "kind": c.kind,
                    "id": c.id,
                    "label": c.label,
                    "text": c.text,
                    "at": c.at.isoformat(),
                    "score": round(c.score, 3),
                    "same_customer": c.same_customer,
                    "status": str(labels.STATUS[c.status]) if c.status else None,
                    "url": url_for("voice.detail", voice_id=c.id)
                    if c.kind == "voice"
                    else url_for("issues.detail", issue_id=c.id),
                }
                for c in found
            ]
        }
    )


# --- the issue page: the voices an issue came from and that repeat it ----------------------------


@bp.app_template_global("issue_voices")
def issue_voices(issue_id: int) -> list[dict[str, Any]]:
    """For issues/detail.html (through voices/_issue_voices.html): the issues package does not
    import the voice package, so the voice side offers this to the template."""
    return [
        {
            "kind": v.kind,
            "reference": v.reference,
            "channel": str(labels.CHANNEL[v.channel]),
            "text": v.text,
            "url": url_for("voice.detail", voice_id=v.voice_id),
        }
        for v in queries.voices_of_issue(_scope(), issue_id)
    ]


@bp.app_template_global("issue_repeats")
def issue_repeats(issue_id: int) -> list[dict[str, Any]]:
    """For issues/detail.html (through voices/_issue_voices.html): the earlier issues the issue
    repeats and those that repeat it, as the hotline screen's repeat panel linked them."""
    return [
        {
            "earlier": r.earlier,
            "number": r.number,
            "title": r.title,
            "status": str(labels.STATUS[r.status]),
            "url": url_for("issues.detail", issue_id=r.issue_id),
        }
        for r in queries.repeat_issues_of_issue(_scope(), issue_id)
    ]
