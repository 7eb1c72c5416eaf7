"""Forms of the voice pages. Choices that depend on data (offices in scope, categories) come in
as constructor arguments; business rules are checked by the services."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.voice.channels import DETAIL_FIELDS, DETAIL_MAX
from app.voice.display import DETAIL, DIMENSION, KIND, SENTIMENT, grouped

MAX_TEXT = 20_000


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _pairs(mapping: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in mapping.items()]


class VoiceForm(FlaskForm):  # type: ignore[misc]
    """The quick form: one for every channel; the channel's own fields are shown for it."""

    channel = SelectField(_l("Channel"), default="hotline", validators=[DataRequired()])
    customer_id = HiddenField()
    office = SelectField(_l("Office"), validators=[Optional()])
    occurred_at = DateTimeLocalField(
        _l("When (office time)"), validators=[Optional()], format="%Y-%m-%dT%H:%M"
    )
    text = TextAreaField(
        _l("What the customer said"), validators=[DataRequired(), Length(max=MAX_TEXT)]
    )
    dimension = SelectField(_l("Dimension"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    sentiment = SelectField(_l("Sentiment"), validators=[Optional()])
    contact_name = StringField(_l("Contact name"), validators=[Optional(), Length(max=120)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    # repeat suggestions the agent acted on while typing: linked (one voice or issue), dismissed
    repeat_target = HiddenField()
    dismissed = HiddenField()

    def __init__(
        self,
        *args: Any,
        offices: list[tuple[str, str]],
        categories: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.channel.choices = {g: choices(items) for g, items in grouped().items()}
        self.office.choices = choices([("", str(_l("The customer's office"))), *offices])
        none = ("", "—")
        self.dimension.choices = choices([none, *_pairs(DIMENSION)])
        self.category.choices = choices([none, *categories])
        self.sentiment.choices = choices([none, *_pairs(SENTIMENT)])

    def detail_fields(self) -> list[Any]:
        return [getattr(self, f"detail_{name}") for name in DETAIL_FIELDS]

    def details(self) -> dict[str, str]:
        return {
            name: (getattr(self, f"detail_{name}").data or "").strip()
            for name in DETAIL_FIELDS
            if (getattr(self, f"detail_{name}").data or "").strip()
        }


for _name in DETAIL_FIELDS:
    setattr(
        VoiceForm,
        f"detail_{_name}",
        StringField(DETAIL[_name], validators=[Optional(), Length(max=DETAIL_MAX)]),
    )


class FilterForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False  # a GET search form

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    channel = SelectField(_l("Channel"), validators=[Optional()])
    kind = SelectField(_l("Kind"), validators=[Optional()])
    dimension = SelectField(_l("Dimension"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    sentiment = SelectField(_l("Sentiment"), validators=[Optional()])
    office = SelectField(_l("Office"), validators=[Optional()])
    customer_id = IntegerField(_l("Customer"), validators=[Optional(), NumberRange(min=1)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def __init__(
        self,
        *args: Any,
        offices: list[tuple[str, str]],
        categories: list[tuple[str, str]],
        channels: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        empty = ("", str(_l("All")))
        self.channel.choices = choices([empty, *channels])
        self.kind.choices = choices([empty, *_pairs(KIND)])
        self.dimension.choices = choices([empty, *_pairs(DIMENSION)])
        self.category.choices = choices([empty, *categories])
        self.sentiment.choices = choices([empty, *_pairs(SENTIMENT)])
        self.office.choices = choices([empty, *offices])


class RaiseForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Issue title"), validators=[DataRequired(), Length(max=200)])
    priority = SelectField(_l("Priority"), default="normal")
    category = SelectField(_l("Category"), validators=[Optional()])

    def __init__(
        self,
        *args: Any,
        priorities: list[tuple[str, str]],
        categories: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.priority.choices = choices(priorities)
        self.category.choices = choices([("", "—"), *categories])


class LinkForm(FlaskForm):  # type: ignore[misc]
    """Mark as a repeat: of an issue (its number) or of a voice (its reference), or of a
    suggested candidate (kind and id)."""

    target = StringField(
        _l("Issue number or voice reference"), validators=[Optional(), Length(max=40)]
    )
    target_kind = HiddenField()
    target_id = HiddenField()


class DismissForm(FlaskForm):  # type: ignore[misc]
    target_kind = HiddenField(validators=[DataRequired()])
    target_id = HiddenField(validators=[DataRequired()])


class PlainForm(FlaskForm):  # type: ignore[misc]
    """A button that only needs its CSRF token."""
