"""Campaign result charts, pure: small DTOs in, plotly figure dicts out (plotly's own JSON
encoder), for the page to hand to plotly.js through |tojson. No Flask here."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from app.surveys import scoring

PROMOTER, PASSIVE, DETRACTOR = "#1b7f4c", "#b7950b", "#b42318"
LAYOUT: dict[str, Any] = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 300,
    "font": {"family": "system-ui, 'PingFang SC', 'Microsoft YaHei', sans-serif", "size": 13},
    "plot_bgcolor": "#ffffff",
    "paper_bgcolor": "#ffffff",
}


def _figure(fig: go.Figure) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fig.to_json())
    return data


def indicator_chart(
    scores: Sequence[scoring.IndicatorScore], names: Mapping[str, str], title: str
) -> dict[str, Any]:
    """Each indicator's score (0–100) with its 95 % margin as an error bar; n in the hover."""
    answered = [s for s in scores if s.score.value is not None]
    fig = go.Figure(
        go.Bar(
            x=[names.get(s.key, s.key) for s in answered],
            y=[round(s.score.value or 0, 1) for s in answered],
            error_y={
                "type": "data",
                "array": [round(s.score.margin or 0, 1) for s in answered],
                "visible": True,
            },
            customdata=[[s.score.n, s.weight] for s in answered],
            hovertemplate="%{x}: %{y} ± %{error_y.array} (n=%{customdata[0]}, %{customdata[1]} %)"
            "<extra></extra>",
            marker_color="#0b5cad",
        )
    )
    fig.update_layout(title=title, yaxis={"range": [0, 100]}, **LAYOUT)
    return _figure(fig)


def _nps_colour(value: int) -> str:
    if value <= scoring.DETRACTOR_MAX:
        return DETRACTOR
    return PROMOTER if value >= scoring.PROMOTER_MIN else PASSIVE


def nps_chart(counts: Mapping[int, int], title: str) -> dict[str, Any]:
    """How many answered 0 … 10, coloured detractor / passive / promoter."""
    values = list(range(11))
    colours = [_nps_colour(v) for v in values]
    fig = go.Figure(
        go.Bar(
            x=[str(v) for v in values],
            y=[counts.get(v, 0) for v in values],
            marker_color=colours,
            hovertemplate="%{x}: %{y}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis={"type": "category"}, **LAYOUT)
    return _figure(fig)


def rating_chart(counts: Mapping[int, int], title: str) -> dict[str, Any]:
    """How many rating answers were 1 … 5."""
    values = list(range(1, 6))
    colours = [DETRACTOR if v <= 2 else PASSIVE if v == 3 else PROMOTER for v in values]
    fig = go.Figure(
        go.Bar(
            x=[str(v) for v in values],
            y=[counts.get(v, 0) for v in values],
            marker_color=colours,
            hovertemplate="%{x}: %{y}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis={"type": "category"}, **LAYOUT)
    return _figure(fig)


def _estimate_bar(name: str, x: list[str], estimates: Sequence[scoring.Estimate]) -> go.Bar:
    return go.Bar(
        name=name,
        x=x,
        y=[None if e.value is None else round(e.value, 1) for e in estimates],
        error_y={
            "type": "data",
            "array": [round(e.margin or 0, 1) for e in estimates],
            "visible": True,
        },
        customdata=[[e.n] for e in estimates],
        hovertemplate="%{x}: %{y} ± %{error_y.array} (n=%{customdata[0]})<extra>"
        + name
        + "</extra>",
    )


def trend_chart(
    waves: Sequence[str],
    index: Sequence[scoring.Estimate],
    nps: Sequence[scoring.Estimate],
    labels: tuple[str, str],
    title: str,
) -> dict[str, Any]:
    """Index (0–100) and NPS (−100..100) per wave, each with its 95 % margin."""
    fig = go.Figure()
    for name, series in zip(labels, (index, nps), strict=True):
        fig.add_trace(
            go.Scatter(
                name=name,
                x=list(waves),
                y=[None if e.value is None else round(e.value, 1) for e in series],
                error_y={
                    "type": "data",
                    "array": [round(e.margin or 0, 1) for e in series],
                    "visible": True,
                },
                customdata=[[e.n] for e in series],
                mode="lines+markers",
                hovertemplate="%{x}: %{y} ± %{error_y.array} (n=%{customdata[0]})<extra>"
                + name
                + "</extra>",
            )
        )
    fig.update_layout(
        title=title, xaxis={"type": "category"}, yaxis={"range": [-100, 100]}, **LAYOUT
    )
    return _figure(fig)


def segment_chart(
    names: Sequence[str], index: Sequence[scoring.Estimate], title: str
) -> dict[str, Any]:
    """The satisfaction index per segment (office), with its margin."""
    fig = go.Figure(_estimate_bar(title, list(names), index))
    fig.update_traces(marker_color="#0b5cad")
    fig.update_layout(title=title, xaxis={"type": "category"}, yaxis={"range": [0, 100]}, **LAYOUT)
    return _figure(fig)


def companies_chart(
    indicators: Sequence[str],
    companies: Mapping[str, Sequence[scoring.Estimate]],
    title: str,
) -> dict[str, Any]:
    """Indicator by indicator, one bar per company measured (ours first), with margins."""
    fig = go.Figure([_estimate_bar(name, list(indicators), s) for name, s in companies.items()])
    fig.update_layout(
        title=title,
        barmode="group",
        xaxis={"type": "category"},
        yaxis={"range": [0, 100]},
        **LAYOUT,
    )
    return _figure(fig)
