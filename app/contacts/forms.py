from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

LANGUAGE_CHOICES = [SelectChoice("zh", "中文"), SelectChoice("en", "English")]


class ContactForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = StringField(_l("Role at the customer"), validators=[Optional(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=64)])
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="zh")
    active = BooleanField(_l("Active"), default=True)

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "role": self.role.data,
            "email": self.email.data,
            "phone": self.phone.data,
            "language": self.language.data,
            "active": self.active.data,
        }


class ProjectForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Project name"), validators=[DataRequired(), Length(max=200)])
    office = SelectField(_l("Office"), validators=[DataRequired()])

    def __init__(self, *args: Any, offices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.office.choices = [SelectChoice(value, label) for value, label in offices]


class MilestoneForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Milestone"), validators=[DataRequired(), Length(max=200)])
    due_date = DateField(_l("Due date"), validators=[Optional()])


class MilestoneDoneForm(FlaskForm):  # type: ignore[misc]
    done_on = DateField(_l("Done on"), validators=[Optional()])
