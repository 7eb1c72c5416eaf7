from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.customers.models import TIERS


class CampaignForm(FlaskForm):  # type: ignore[misc]
    survey = SelectField(_l("Survey"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    office = SelectField(_l("Office"), validators=[Optional()])
    region = SelectField(_l("Region"), validators=[Optional()])
    tier = SelectField(_l("Tier"), validators=[Optional()])
    project = IntegerField(_l("Project number"), validators=[Optional(), NumberRange(min=1)])
    contact_ids = StringField(
        _l("Contacts (numbers)"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("An explicit list, separated by commas; leave empty for everyone"),
    )
    event = SelectField(
        _l("Trigger"),
        choices=[
            SelectChoice("", _l("A date, or a schedule")),
            SelectChoice("milestone_done", _l("Each milestone done")),
            SelectChoice("issue_resolved", _l("Each issue resolved")),
        ],
        validators=[Optional()],
    )
    send_at = DateTimeLocalField(
        _l("Send at"), validators=[Optional()], description=_l("Empty: send now")
    )
    cron = StringField(
        _l("Recurring (crontab)"),
        validators=[Optional(), Length(max=100)],
        description=_l("e.g. 0 9 1 * * for 09:00 on the 1st of each month"),
    )
    remind_after_days = IntegerField(
        _l("Remind after (days)"), validators=[Optional(), NumberRange(min=1, max=60)]
    )
    reminders = SelectField(
        _l("Reminders"), choices=[SelectChoice(str(n), str(n)) for n in (0, 1, 2)], default="2"
    )
    close_at = DateTimeLocalField(_l("Close at"), validators=[Optional()])

    def __init__(
        self,
        *args: Any,
        surveys: list[tuple[str, str]],
        offices: list[tuple[str, str]],
        regions: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.survey.choices = [SelectChoice(v, label) for v, label in surveys]
        blank = [SelectChoice("", "—")]
        self.office.choices = blank + [SelectChoice(v, label) for v, label in offices]
        self.region.choices = blank + [SelectChoice(v, label) for v, label in regions]
        self.tier.choices = blank + [SelectChoice(t, t) for t in TIERS]

    def contact_list(self) -> list[Any] | None:
        raw = (self.contact_ids.data or "").replace("，", ",").strip()
        if not raw:
            return None
        out: list[Any] = []
        for part in raw.split(","):
            part = part.strip()
            out.append(int(part) if part.isdigit() and len(part) < 19 else part)
        return out

    def audience(self) -> dict[str, Any]:
        audience: dict[str, Any] = {}
        for key in ("office", "region", "tier"):
            if getattr(self, key).data:
                audience[key] = getattr(self, key).data
        if self.project.data:
            audience["project"] = self.project.data
        contacts = self.contact_list()
        if contacts is not None:
            audience["contact_ids"] = contacts
        return audience

    @staticmethod
    def aware(value: datetime | None, timezone: str) -> datetime | None:
        """A datetime-local value is read in the company time zone."""
        return value.replace(tzinfo=ZoneInfo(timezone)) if value is not None else None


class ImportForm(FlaskForm):  # type: ignore[misc]
    file = FileField(
        _l("Results file (CSV or XLSX)"),
        validators=[FileRequired()],
        description=_l(
            "One row per respondent; columns named by question key, optional company "
            "(a competitor; empty for ours) and external_id."
        ),
    )
    mapping = TextAreaField(
        _l("Column mapping (optional)"),
        validators=[Optional(), Length(max=5000)],
        description=_l(
            "For a file with the agency's own headers: one line per column, "
            "file column = question key, company or external_id."
        ),
    )
