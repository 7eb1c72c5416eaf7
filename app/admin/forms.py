from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
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


class OfficeForm(FlaskForm):  # type: ignore[misc]
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    region = SelectField(_l("Region"), validators=[DataRequired()])

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = [SelectChoice(v, label) for v, label in regions]
