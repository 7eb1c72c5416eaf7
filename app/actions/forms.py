"""Forms of the improvement-action pages. Choices come from the view (scope-dependent)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.issues.forms import choices


class ActionForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    dimension = SelectField(_l("Dimension"), validators=[DataRequired()])
    owner_id = SelectField(_l("Owner"), validators=[DataRequired()])
    due_on = DateField(_l("Due date"), validators=[DataRequired()])
    place = SelectField(_l("Where"), validators=[DataRequired()])
    metric = SelectField(
        _l("Effect measured by"),
        validators=[DataRequired()],
        description=_l("Compared over the 90 days before the action and after it is done."),
    )
    metric_category = SelectField(_l("Category (for its volume)"), validators=[Optional()])
    metric_indicator = SelectField(_l("Survey indicator (for its score)"), validators=[Optional()])
    issues = StringField(
        _l("Issues that caused it"),
        validators=[Length(max=4000)],
        description=_l("Issue numbers, separated by commas or spaces."),
    )
    voices = StringField(
        _l("Voices that caused it"),
        validators=[Length(max=4000)],
        description=_l("Voice references, separated by commas or spaces."),
    )
    campaigns = StringField(
        _l("Survey campaigns that caused it"),
        validators=[Length(max=4000)],
        description=_l(
            "Campaign numbers, optionally with the indicator (e.g. 12:quality), separated by "
            "commas or spaces."
        ),
    )
    responses = StringField(
        _l("Survey responses that caused it"),
        validators=[Length(max=4000)],
        description=_l("Response numbers, separated by commas or spaces."),
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=20_000)])

    def __init__(
        self,
        *args: Any,
        dimensions: list[tuple[str, str]],
        owners: list[tuple[str, str]],
        places: list[tuple[str, str]],
        metrics: list[tuple[str, str]],
        categories: list[tuple[str, str]],
        indicators: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.dimension.choices = choices(dimensions)
        self.owner_id.choices = choices([("", "—"), *owners])
        self.place.choices = choices(places)
        self.metric.choices = choices(metrics)
        self.metric_category.choices = choices([("", "—"), *categories])
        self.metric_indicator.choices = choices([("", "—"), *indicators])


class StatusForm(FlaskForm):  # type: ignore[misc]
    status = SelectField(_l("Status"), validators=[DataRequired()])
    version = HiddenField()

    def __init__(self, *args: Any, statuses: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = choices(statuses)
