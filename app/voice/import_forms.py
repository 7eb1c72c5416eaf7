"""Forms of the import pages: the upload, the column mapping, the resume upload."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from app.voice.channels import DETAIL_FIELDS

FIELD_LABELS: dict[str, Any] = {
    "text": _l("Text"),
    "occurred_at": _l("Date and time"),
    "category": _l("Category"),
    "dimension": _l("Dimension"),
    "sentiment": _l("Sentiment"),
    "external_id": _l("External ID"),
    "customer_name": _l("Customer name"),
    "customer_phone": _l("Customer phone"),
    "contact_name": _l("Contact name"),
    "contact_phone": _l("Contact phone"),
    "contact_email": _l("Contact e-mail"),
    "product": _l("Product"),
    "order_no": _l("Order number"),
    "amount": _l("Amount"),
    "model": _l("Model"),
    "batch": _l("Batch"),
    "reason_code": _l("Reason code"),
    "interviewee": _l("Interviewee"),
    "interviewee_role": _l("Interviewee's role"),
    "partner": _l("Partner"),
    "team": _l("Team"),
    "site": _l("Site"),
    "agency": _l("Research agency"),
    "sample_size": _l("Sample size"),
}
assert set(DETAIL_FIELDS) <= set(FIELD_LABELS)  # noqa: S101 (a new channel field needs a label)


class UploadForm(FlaskForm):  # type: ignore[misc]
    file = FileField(
        _l("File"),
        validators=[FileRequired()],
        description=_l("CSV (UTF-8 or GBK) or XLSX, the first row naming the columns"),
    )
    channel = SelectField(_l("Channel"), validators=[DataRequired()])
    office = SelectField(_l("Office"), validators=[DataRequired()])

    def __init__(
        self, *args: Any, channels: list[tuple[str, str]], offices: list[tuple[str, str]], **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.channel.choices = [SelectChoice(v, label) for v, label in channels]
        self.office.choices = [SelectChoice(v, label) for v, label in offices]


class ResumeForm(FlaskForm):  # type: ignore[misc]
    file = FileField(
        _l("The same file again"),
        validators=[FileRequired()],
        description=_l("The import goes on from the first row it has not stored yet."),
    )


class MappingForm(FlaskForm):  # type: ignore[misc]
    """One select per product field (`map_<field>`), each offering the file's headers."""

    def mapping(self) -> dict[str, str]:
        return {
            name.removeprefix("map_"): field.data
            for name, field in self._fields.items()
            if name.startswith("map_") and field.data
        }


def mapping_form(
    fields: tuple[str, ...], headers: list[str], guessed: dict[str, str]
) -> MappingForm:
    none = [SelectChoice("", "—")]
    choices = none + [SelectChoice(h, h) for h in headers if h]

    class Form(MappingForm):
        pass

    for name in fields:
        setattr(
            Form,
            f"map_{name}",
            SelectField(
                FIELD_LABELS.get(name, name), choices=choices, default=guessed.get(name, "")
            ),
        )
    form: MappingForm = Form()
    return form
