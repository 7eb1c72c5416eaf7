from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class IntakeForm(FlaskForm):  # type: ignore[misc]
    """The hotline screen: find or create the caller, then log the call."""

    customer_id = HiddenField()
    new_customer_name = StringField(
        _l("New customer name"), validators=[Optional(), Length(max=120)]
    )
    new_customer_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=64)])
    new_customer_company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("What the customer said"), validators=[Length(max=20_000)])
    category = SelectField(_l("Category"), validators=[DataRequired()])
    priority = SelectField(_l("Priority"), default="normal")
    channel = SelectField(_l("Channel"), default="hotline")
    commitment_text = StringField(_l("Commitment to the customer"), validators=[Length(max=2000)])
    commitment_due_at = DateTimeLocalField(
        _l("Promised by"), validators=[Optional()], format="%Y-%m-%dT%H:%M"
    )
    # the likely repeats the agent acted on while typing (the repeat panel fills them): the one
    # linked and those dismissed, as "voice:12,issue:5"
    repeat_target = HiddenField()
    dismissed = HiddenField()

    def __init__(
        self,
        *args: Any,
        categories: list[tuple[str, str]],
        priorities: list[tuple[str, str]],
        channels: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = choices(categories)
        self.priority.choices = choices(priorities)
        self.channel.choices = choices(channels)


class EditForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20_000)])
    category = SelectField(_l("Category"), validators=[DataRequired()])
    priority = SelectField(_l("Priority"))
    version = HiddenField()

    def __init__(
        self,
        *args: Any,
        categories: list[tuple[str, str]],
        priorities: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = choices(categories)
        self.priority.choices = choices(priorities)


class ActionForm(FlaskForm):  # type: ignore[misc]
    """One form for every lifecycle button; the action decides which fields matter."""

    version = HiddenField()
    owner_id = SelectField(_l("Owner"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    resolution = TextAreaField(_l("Resolution"), validators=[Optional(), Length(max=20_000)])
    root_cause = SelectField(_l("Root cause"), validators=[Optional()])
    responsible = StringField(
        _l("Responsible department"), validators=[Optional(), Length(max=120)]
    )
    rating = RadioField(
        _l("Customer rating"),
        choices=[SelectChoice(str(i), str(i)) for i in range(5, 0, -1)],
        validators=[Optional()],
    )
    comment = TextAreaField(_l("Customer comment"), validators=[Optional(), Length(max=2000)])
    callback = BooleanField(_l("Callback made (回访)"))

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[str, str]],
        root_causes: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.owner_id.choices = choices([("", "—"), *owners])
        self.root_cause.choices = choices([("", "—"), *root_causes])


class NoteForm(FlaskForm):  # type: ignore[misc]
    text = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=20_000)])
    internal = BooleanField(_l("Internal (not shown to the customer)"), default=True)


class ContactForm(FlaskForm):  # type: ignore[misc]
    direction = SelectField(_l("Direction"))
    channel = SelectField(_l("Channel"))
    text = TextAreaField(_l("What was said"), validators=[DataRequired(), Length(max=20_000)])

    def __init__(self, *args: Any, channels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direction.choices = choices(
            [("out", _l("We contacted the customer")), ("in", _l("The customer contacted us"))]
        )
        self.channel.choices = choices(channels)


class FilterForm(FlaskForm):  # type: ignore[misc]
    """The queue's filters. A value that fails its check is left out of the query (the page
    says why), so a mistyped date or a stale owner link never widens or breaks the list."""

    class Meta:
        csrf = False  # a GET search form

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), validators=[Optional()])
    priority = SelectField(_l("Priority"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    channel = SelectField(_l("Channel"), validators=[Optional()])
    owner = SelectField(_l("Owner"), validators=[Optional()])
    received_from = DateField(_l("Received from"), validators=[Optional()])
    received_to = DateField(_l("Received until"), validators=[Optional()])

    def __init__(
        self,
        *args: Any,
        statuses: list[tuple[str, str]],
        priorities: list[tuple[str, str]],
        categories: list[tuple[str, str]],
        channels: list[tuple[str, str]],
        owners: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        empty = ("", _l("All"))
        self.status.choices = choices([empty, *statuses])
        self.priority.choices = choices([empty, *priorities])
        self.category.choices = choices([empty, *categories])
        self.channel.choices = choices([empty, *channels])
        self.owner.choices = choices([("", _l("Any owner")), *owners])

    def validate_received_to(self, field: DateField) -> None:
        start = self.received_from.data
        if field.data is not None and start is not None and field.data < start:
            raise ValidationError(_l("The end date is before the start date."))

    def valid(self, name: str) -> Any:
        """The field's value when it passed its checks, else None."""
        field = getattr(self, name)
        return None if field.errors else (field.data or None)
