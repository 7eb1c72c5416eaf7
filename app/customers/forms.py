from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

TIER_CHOICES = [SelectChoice(t, t) for t in ("A", "B", "C", "D")]


class CustomerForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    phones = StringField(
        _l("Phones"),
        validators=[Optional(), Length(max=300)],
        description=_l("Several numbers separated by commas"),
    )
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    office = SelectField(_l("Office"), validators=[DataRequired()])
    tier = SelectField(_l("Tier"), choices=TIER_CHOICES, default="C")
    contract_end = DateField(_l("Contract end"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10_000)])
    version = HiddenField()

    def __init__(self, *args: Any, offices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.office.choices = [SelectChoice(value, label) for value, label in offices]

    def phone_list(self) -> list[str]:
        raw = (self.phones.data or "").replace("，", ",").replace(";", ",")
        return [p.strip() for p in raw.split(",") if p.strip()]
