from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.auth.roles import Role, role_label


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(r.value, role_label(r)) for r in Role]


class PlaceMixin:
    office: SelectField
    region: SelectField

    def set_places(self, offices: list[tuple[str, str]], regions: list[tuple[str, str]]) -> None:
        empty = SelectChoice("", "—")
        self.office.choices = [empty, *(SelectChoice(v, label) for v, label in offices)]
        self.region.choices = [empty, *(SelectChoice(v, label) for v, label in regions)]


class UserCreateForm(PlaceMixin, FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    office = SelectField(_l("Office"), validators=[Optional()])
    region = SelectField(_l("Region"), validators=[Optional()])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=8)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices()


class UserEditForm(PlaceMixin, FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    office = SelectField(_l("Office"), validators=[Optional()])
    region = SelectField(_l("Region"), validators=[Optional()])
    active = BooleanField(_l("Active"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices()


class ResetPasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8)])


class RegionForm(FlaskForm):  # type: ignore[misc]
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])


class OfficeHoursMixin:
    """The office's time zone and daily working window, which the SLA clocks count in. The
    form checks the shape; the service checks the zone and that work starts before it ends."""

    timezone = StringField(
        _l("Time zone"),
        default="Asia/Shanghai",
        validators=[DataRequired(), Length(max=64)],
        description=_l("An IANA time zone, e.g. Asia/Shanghai."),
    )
    work_start = StringField(
        _l("Work starts"),
        default="09:00",
        validators=[DataRequired(), Length(max=5)],
        render_kw={"type": "time"},
    )
    work_end = StringField(
        _l("Work ends"),
        default="18:00",
        validators=[DataRequired(), Length(max=5)],
        render_kw={"type": "time"},
        description=_l("SLA deadlines count working time between these hours on working days."),
    )


class OfficeForm(OfficeHoursMixin, FlaskForm):  # type: ignore[misc]
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    region = SelectField(_l("Region"), validators=[DataRequired()])

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = [SelectChoice(v, label) for v, label in regions]


class OfficeEditForm(OfficeHoursMixin, FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    version = HiddenField()
