"""The public feedback form: what a customer may type, and the two bot traps it carries."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.customers.phones import normalise_phone

MAX_TEXT = 5_000


def at_most(n: int) -> Length:
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


ABOUT = (
    ("product", _l("A product")),
    ("service", _l("Our service")),
    ("brand", _l("Our company or brand")),
)


class FeedbackForm(FlaskForm):  # type: ignore[misc]
    text = TextAreaField(
        _l("Your feedback"),
        validators=[
            DataRequired(message=_l("Please tell us what you want to say.")),
            at_most(MAX_TEXT),
        ],
    )
    about = SelectField(_l("What is it about? (optional)"), validators=[Optional()], default="")
    office = SelectField(
        _l("Which office serves you?"),
        validators=[DataRequired(message=_l("Please choose the office that serves you."))],
    )
    name = StringField(
        _l("Your name (optional)"),
        validators=[
            Optional(),
            at_most(120),
        ],
    )
    phone = StringField(
        _l("Phone (optional)"),
        validators=[Optional(), at_most(40)],
    )
    email = EmailField(
        _l("E-mail (optional)"),
        validators=[
            Optional(),
            at_most(254),
            Email(message=_l("Please enter a valid e-mail address, e.g. name@example.com.")),
        ],
    )
    # Bot traps: a field people never see (filled → a bot), and when the form was served,
    # signed by the server (missing, forged or answered within seconds → a bot).
    homepage = StringField(_l("Leave this field empty"))
    started = HiddenField()

    def __init__(self, *args: Any, offices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.office.choices = [SelectChoice("", str(_l("Choose…")))] + [
            SelectChoice(code, name) for code, name in offices
        ]
        self.about.choices = [SelectChoice("", str(_l("Not sure / other")))] + [
            SelectChoice(value, str(label)) for value, label in ABOUT
        ]

    def validate_phone(self, field: Any) -> None:
        if field.data and field.data.strip() and normalise_phone(field.data) is None:
            raise ValidationError(_l("Please enter a phone number in digits, e.g. 138 0013 8000."))

    def phone_digits(self) -> str | None:
        raw = (self.phone.data or "").strip()
        return normalise_phone(raw) if raw else None
