"""Import pages (/voices/import): upload → preview with the column mapping → run → the per-row
report; the list of past imports, and resuming one that did not finish.

Between the upload and the run, the file waits in the instance folder under a random name
that only the uploader's session knows; it is deleted after the run, and left-overs of
abandoned uploads are swept after an hour.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from app.auth.permissions import require_roles
from app.core.errors import Conflict, DomainError, ValidationFailed
from app.core.pagination import keyset_page
from app.core.scoping import Scope
from app.extensions import db
from app.issues import labels
from app.org.models import Office
from app.org.services import list_offices
from app.voice.channels import CHANNEL_FIELDS
from app.voice.import_forms import FIELD_LABELS, ResumeForm, UploadForm, mapping_form
from app.voice.import_values import guess_mapping
from app.voice.importers import FileTooLarge, Limits, cell_text, read_table
from app.voice.imports import (
    BASE_FIELDS,
    IMPORT_FIELDS,
    IMPORT_ROLES,
    file_digest,
    get_import,
    prepare_import,
    prepare_resume,
    run_import,
)
from app.voice.models import VoiceImport
from app.voice.problems import localized

bp = Blueprint("voice_import", __name__, url_prefix="/voices/import")

UPLOADS_KEY = "voice_import_uploads"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
UPLOAD_TTL_SECONDS = 3600
MAX_PENDING = 5
PREVIEW_ROWS = 10
PAGE_SIZE = 25
FORM_OVERHEAD = 1024 * 1024


@bp.before_request
@require_roles(*IMPORT_ROLES)
def _importers_only() -> None:
    if request.method == "POST":
        request.max_content_length = _limits().max_bytes + FORM_OVERHEAD


def _limits() -> Limits:
    return Limits.from_config(current_app.config)


def _scope() -> Scope:
    return Scope.for_user(current_user)


def _upload_dir() -> Path:
    configured = current_app.config.get("VOICE_IMPORT_UPLOAD_DIR")
    path = Path(configured) if configured else Path(current_app.instance_path) / "voice_uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _sweep_old_uploads(folder: Path) -> None:
    cutoff = time.time() - UPLOAD_TTL_SECONDS
    for item in folder.glob("*.upload"):
        try:
            if item.stat().st_mtime < cutoff:
                item.unlink()
        except OSError:
            continue


def _read_upload(storage: FileStorage) -> bytes:
    data: bytes = storage.read(_limits().max_bytes + 1)
    if len(data) > _limits().max_bytes:
        raise FileTooLarge()
    return data


def _pending() -> dict[str, dict[str, str]]:
    pending: dict[str, dict[str, str]] = session.get(UPLOADS_KEY) or {}
    return pending


def _pending_upload(token: str) -> tuple[dict[str, str], bytes]:
    info = _pending().get(token) if TOKEN_RE.match(token) else None
    path = _upload_dir() / f"{token}.upload"
    if info is None or not path.exists():
        abort(404)
    return info, path.read_bytes()


def _forget_upload(token: str) -> None:
    pending = _pending()
    pending.pop(token, None)
    session[UPLOADS_KEY] = pending
    (_upload_dir() / f"{token}.upload").unlink(missing_ok=True)


def _upload_form() -> UploadForm:
    """Filled from the request on POST (Flask-WTF joins the files and the form fields)."""
    offices = [(o.code, f"{o.name} ({o.code})") for o in list_offices(_scope())]
    return UploadForm(channels=labels.pairs(labels.CHANNEL), offices=offices)


def _past_imports() -> Any:
    stmt = sa.select(VoiceImport).where(_scope().office_filter(VoiceImport.office_id))
    return keyset_page(
        stmt,
        order=[VoiceImport.id],
        key=lambda i: [i.id],
        limit=PAGE_SIZE,
        cursor=request.args.get("cursor") or None,
    )


def _index_page(form: UploadForm) -> Any:
    return render_template(
        "voices/import_upload.html",
        form=form,
        page=_past_imports(),
        channels=labels.CHANNEL,
        tz=ZoneInfo(current_app.config["TIMEZONE"]),
    )


@bp.get("/")
def index() -> Any:
    return _index_page(_upload_form())


@bp.post("/")
def upload() -> Any:
    form = _upload_form()
    if not form.validate():
        return _index_page(form), 422
    try:
        data = _read_upload(form.file.data)
        table = read_table(form.file.data.filename or "upload", data, _limits())
    except DomainError as exc:
        form.file.errors = [*form.file.errors, exc.fields.get("file", exc.message)]
        return _index_page(form), exc.status
    folder = _upload_dir()
    _sweep_old_uploads(folder)
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}.upload"
    path.write_bytes(data)
    path.chmod(0o600)
    pending = _pending()
    for old in list(pending)[: max(0, len(pending) - MAX_PENDING + 1)]:
        _forget_upload(old)
        pending.pop(old, None)
    pending[token] = {
        "name": (form.file.data.filename or "upload")[-255:],
        "channel": form.channel.data,
        "office": form.office.data,
    }
    session[UPLOADS_KEY] = pending
    del table  # read once here to refuse what cannot be imported before any mapping
    _tell_about_earlier_imports(data)
    return redirect(url_for("voice_import.preview", token=token))


def _tell_about_earlier_imports(data: bytes) -> None:
    """The same file (by SHA-256) imported before in the user's offices: say so, and offer to
    resume it when it did not finish."""
    earlier = db.session.scalars(
        sa.select(VoiceImport)
        .where(
            VoiceImport.file_sha256 == file_digest(data),
            _scope().office_filter(VoiceImport.office_id),
        )
        .order_by(VoiceImport.id.desc())
        .limit(1)
    ).first()
    if earlier is None:
        return
    if earlier.status == "done":
        flash(_("This file was imported before; its rows will be counted as duplicates."), "info")
    else:
        flash(
            _(
                "This file has an unfinished import (no. %(id)s); you can resume it from its "
                "report instead.",
                id=earlier.id,
            ),
            "warning",
        )


def _field_order(channel: str) -> tuple[str, ...]:
    """The common fields, then this channel's own (a return's batch), then the rest."""
    own = CHANNEL_FIELDS.get(channel, ())
    rest = [f for f in IMPORT_FIELDS if f not in BASE_FIELDS and f not in own]
    return (*BASE_FIELDS, *own, *rest)


def _preview_page(token: str, info: dict[str, str], data: bytes, form: Any, errors: Any) -> Any:
    table = read_table(info["name"], data, _limits())
    rows: list[tuple[int, list[str]]] = []
    for row in table.rows():
        if len(rows) >= PREVIEW_ROWS:
            break
        rows.append((row.number, [cell_text(c) or "" for c in row.cells[: len(table.headers)]]))
    office = db.session.scalars(sa.select(Office).where(Office.code == info["office"])).first()
    return render_template(
        "voices/import_preview.html",
        token=token,
        info=info,
        office=office,
        channel_label=labels.CHANNEL.get(info["channel"], info["channel"]),
        headers=table.headers,
        rows=rows,
        total=table.count(),
        form=form,
        fields=[(name, FIELD_LABELS.get(name, name)) for name in _field_order(info["channel"])],
        errors=errors,
    )


@bp.get("/map/<token>")
def preview(token: str) -> Any:
    info, data = _pending_upload(token)
    headers = read_table(info["name"], data, _limits()).headers
    form = mapping_form(IMPORT_FIELDS, headers, guess_mapping(headers, IMPORT_FIELDS))
    return _preview_page(token, info, data, form, {})


@bp.post("/map/<token>")
def run(token: str) -> Any:
    info, data = _pending_upload(token)
    headers = read_table(info["name"], data, _limits()).headers
    form = mapping_form(IMPORT_FIELDS, headers, {})
    if not form.validate():
        return _preview_page(token, info, data, form, {}), 422
    try:
        imp, table = prepare_import(
            actor=current_user,
            office_code=info["office"],
            channel=info["channel"],
            filename=info["name"],
            data=data,
            mapping=form.mapping(),
            limits=_limits(),
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _preview_page(token, info, data, form, exc.fields), 422
    import_id = imp.id
    try:
        run_import(imp, table, actor=current_user)
    except Conflict as exc:
        flash(exc.message, "warning")
    finally:
        _forget_upload(token)
    return redirect(url_for("voice_import.report", import_id=import_id))


@bp.get("/<int:import_id>")
def report(import_id: int) -> Any:
    imp = get_import(current_user, import_id)
    return _report_page(imp, ResumeForm())


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def rejected_rows(rejected: Any) -> list[tuple[Any, str, str]]:
    """(row, field, problem in the page's language) for each stored problem: from its code when
    the import stored one, else the English message as it was stored."""
    out: list[tuple[Any, str, str]] = []
    for item in rejected if isinstance(rejected, list) else []:
        if not isinstance(item, dict):
            continue
        codes = _as_dict(item.get("codes"))
        for name, message in _as_dict(item.get("errors")).items():
            code = _as_dict(codes.get(name))
            text = localized(code.get("code"), code.get("params"), str(message))
            out.append((item.get("row"), str(name), text))
    return out


def _report_page(imp: VoiceImport, form: ResumeForm) -> Any:
    return render_template(
        "voices/import_report.html",
        imp=imp,
        form=form,
        channel_label=labels.CHANNEL.get(imp.channel, imp.channel),
        field_labels={**FIELD_LABELS, "record": _("Whole record")},
        problems=rejected_rows(imp.rejected),
        mapping=json.dumps(imp.mapping, ensure_ascii=False),
        tz=ZoneInfo(imp.office.timezone),
    )


@bp.post("/<int:import_id>/resume")
def resume(import_id: int) -> Any:
    imp = get_import(current_user, import_id)
    form = ResumeForm()
    if not form.validate():
        return _report_page(imp, form), 422
    try:
        data = _read_upload(form.file.data)
        imp, table = prepare_resume(
            actor=current_user,
            import_id=import_id,
            filename=form.file.data.filename or "upload",
            data=data,
            limits=_limits(),
        )
        run_import(imp, table, actor=current_user)
    except Conflict as exc:
        flash(exc.message, "warning")
    except DomainError as exc:
        db.session.rollback()
        form.file.errors = [*form.file.errors, exc.fields.get("file", exc.message)]
        return _report_page(get_import(current_user, import_id), form), exc.status
    return redirect(url_for("voice_import.report", import_id=import_id))
