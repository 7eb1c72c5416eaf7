"""The acknowledge form of the watch list."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from app.warnings.services import NOTE_MAX


class AcknowledgeForm(FlaskForm):  # type: ignore[misc]
    note = StringField(
        _l("Follow-up"),
        validators=[Length(max=NOTE_MAX)],
        description=_l("Who is calling the customer, or what is being done."),
    )
