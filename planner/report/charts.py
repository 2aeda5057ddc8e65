"""The report's charts: matplotlib figures rendered to inline SVG, byte-identical for equal data.

Each function takes plain numbers (no files) and returns the `<svg>` element as text, or None
when there is nothing to draw. matplotlib is imported here only, on first use, so that the
command line starts fast; the Agg back-end needs no display.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, ParamSpec, TypeVar

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

P = ParamSpec("P")
R = TypeVar("R")
MEASURE_COLOURS = {"relocation": "#1f77b4", "offset": "#ff7f0e", "financial": "#2ca02c",
                   "alternative": "#9467bd"}
OUTCOME_COLOURS = {"assigned": "#2ca02c", "capacity": "#ff7f0e", "no_eligible_place": "#d62728",
                   "no_bilateral_agreement": "#9467bd", "protection_expired": "#e377c2",
                   "protection_date_missing": "#bcbd22", "protection_after_adoption": "#17becf",
                   "consent": "#7f7f7f", "security": "#8c564b"}
SERIES_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                  "#7f7f7f", "#bcbd22", "#17becf")
# Fixed salt and no date: the same figure gives the same bytes on every run. Text stays text
# ('none'), so the page is smaller and the browser can select and search it.
WIDTH = 10.5  # inches: about the page's column at 96 pixels an inch
# Names are data, never TeX: no mathtext, so a `$` in a pledge id or a run name stays a `$`.
RC: dict[RcKeyType, object] = {
    "svg.hashsalt": "solidarity-pool-report", "svg.fonttype": "none", "font.size": 9,
    "text.parse_math": False,
    "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 11,
    "axes.titleweight": "bold", "legend.fontsize": 8, "legend.frameon": False}


def preload() -> None:
    """Import what the charts draw with (matplotlib's figure, its SVG backend, the artists
    used), drawing nothing: 0.3 s of a 0.6-s report at 30,000 bench persons. A run's exports
    child does it while the plan is made (planner.outputs.alongside)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.backends.backend_svg
    import matplotlib.collections
    import matplotlib.figure
    import matplotlib.ticker


def _axes(width: float, height: float, left: float, right: float, top: float, bottom: float
          ) -> tuple[Figure, Axes]:
    """A figure of `width` x `height` inches and its one axes, with margins in inches, set by
    hand: a layout engine or a tight bounding box draws the figure twice, and the report is to
    take well under a second."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=bottom / height)
    return fig, fig.add_subplot()


def _thousands(axis: Axis) -> None:
    from matplotlib.ticker import StrMethodFormatter

    axis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def _hbars(ax: Axes, y: Sequence[float], widths: Sequence[float], left: Sequence[float],
           **style: object) -> None:
    """Horizontal bars as one collection: a patch per bar (barh) costs several times more to
    build and draw, and the report is to take well under a second."""
    from matplotlib.collections import PolyCollection

    h = 0.35
    ax.add_collection(PolyCollection(
        [[(x, b - h), (x + w, b - h), (x + w, b + h), (x, b + h)]
         for b, w, x in zip(y, widths, left, strict=True)], **style))  # type: ignore[arg-type]


def _short(labels: Sequence[str], most: int = 60) -> list[str]:
    """Labels from the inputs as shown: control and format characters escaped
    (planner.report.display.visible), cut to `most` characters (a 2,000-character id must not push
    the plot out). Every tick and series label goes through here."""
    from planner.report.display import visible

    shown = [visible(x) for x in labels]
    return [x if len(x) <= most else x[:most - 1] + "…" for x in shown]


def _label_width(labels: Sequence[str]) -> float:
    """Inches taken by the longest (cut) tick label at 9 pt, plus the tick."""
    return 0.25 + 0.068 * max((len(x) for x in _short(labels)), default=0)


def _prefix_ids(svg: str, prefix: str) -> str:
    """`prefix-` before every id and every in-page reference, inside tags only (text is
    escaped, so `<...>` is always a tag and a name that reads `id="x"` stays as it is)."""
    def tag(match: re.Match[str]) -> str:
        text = re.sub(r'(\sid=")', rf"\1{prefix}-", match.group(0))
        return re.sub(r'(url\(#|href="#)', rf"\1{prefix}-", text)
    return re.sub(r"<[^>]+>", tag, svg)


def to_svg(fig: Figure, prefix: str) -> str:
    """The figure as an `<svg>` element for inlining: no XML prolog or metadata, and every id
    prefixed so that several charts in one page do not share ids."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = _prefix_ids(svg, prefix)
    return svg.replace("<svg ", f'<svg role="img" aria-labelledby="{prefix}-title" ', 1)


def _styled(draw: Callable[P, R]) -> Callable[P, R]:
    """Draw under the report's rc settings (they apply when artists are made, not only saved)."""
    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        import matplotlib

        with matplotlib.rc_context(RC), warnings.catch_warnings():
            # Text stays text in the SVG and the browser draws it with its own fonts, so a
            # glyph missing from matplotlib's font (an emoji in a name) is no matter.
            warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
            return draw(*args, **kwargs)
    return wrapper


def _finish(fig: Figure, ax: Axes, axis: Literal["x", "y"], unit: str, title: str, columns: int,
            prefix: str) -> str:
    """The value axis (`axis`, x or y) labelled `unit` and gridded, the title, and the legend
    along the figure's bottom edge, under the axis label, in the margin left for it (figure
    coordinates: independent of the plot's height); the figure as SVG."""
    (ax.set_xlabel if axis == "x" else ax.set_ylabel)(unit)
    # y given, as matplotlib would place it: these axes have no tick labels, axis label or
    # offset text on top to lift the title over, so drawing need not measure them again
    # (about 5 ms a chart).
    ax.set_title(title, gid="title", y=1.0)
    ax.grid(axis=axis, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.02), ncols=columns)
    return to_svg(fig, prefix)


@_styled
def mix_chart(states: Sequence[str], mix: Mapping[str, Sequence[float]],
              obligation: Sequence[float], unit: str) -> str | None:
    """Each contributor's plan by measure (stacked), its obligation, and any shortfall."""
    if not states:
        return None
    fig, ax = _axes(WIDTH, 1.5 + 0.27 * len(states), _label_width(states), 0.2, 0.35, 1.0)
    y = list(range(len(states)))[::-1]  # first state at the top
    left = [0.0] * len(states)
    for measure, values in mix.items():
        _hbars(ax, y, values, left, label=measure, facecolor=MEASURE_COLOURS.get(measure))
        left = [a + b for a, b in zip(left, values, strict=True)]
    short = [max(o - v, 0.0) for o, v in zip(obligation, left, strict=True)]
    if any(s > 1e-9 for s in short):
        _hbars(ax, y, short, left, label="shortfall", facecolor="none", hatch="////",
               edgecolor="#d62728", linewidth=0.8)
    ax.autoscale_view()
    ax.set_xlim(left=0)
    ax.set_ylim(-0.6, len(states) - 0.4)
    ax.scatter(obligation, y, marker="|", s=220, linewidths=2, color="black", zorder=3,
               label="obligation")
    ax.set_yticks(y, _short(states))
    _thousands(ax.xaxis)
    return _finish(fig, ax, "x", unit, "Each contributor's plan against its obligation",
                   len(mix) + 2, "chart-mix")


@_styled
def coverage_chart(beneficiaries: Sequence[str], ratios: Mapping[str, Sequence[float | None]]
                   ) -> str | None:
    """Per benefitting state, the share of each stated need that the plan covers."""
    measures = [m for m, values in ratios.items() if any(v is not None for v in values)]
    if not beneficiaries or not measures:
        return None
    fig, ax = _axes(WIDTH, 3.6, 0.7, 0.2, 0.35, 1.0)
    width = 0.8 / len(measures)
    for i, measure in enumerate(measures):
        x = [j + (i - (len(measures) - 1) / 2) * width for j in range(len(beneficiaries))]
        values = [100 * (v or 0.0) for v in ratios[measure]]
        bars = ax.bar(x, values, width=width, label=measure, color=MEASURE_COLOURS.get(measure))
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=1)
    ax.set_xticks(range(len(beneficiaries)), _short(beneficiaries))
    return _finish(fig, ax, "y", "% of the stated need covered",
                   "Coverage of needs per benefitting state", len(measures), "chart-coverage")


@_styled
def flow_chart(contributors: Sequence[str], beneficiaries: Sequence[str],
               values: Sequence[Sequence[float]], unit: str) -> str | None:
    """Contributors (rows) to benefitting states (columns): value of the flows, as a heat map."""
    if not contributors or not beneficiaries:
        return None
    fig, ax = _axes(2.4 + 1.1 * len(beneficiaries), 1.2 + 0.27 * len(contributors),
                    0.9, 0.2, 0.85, 0.2)
    top = max((v for row in values for v in row), default=0.0) or 1.0
    # Vector cells (pcolormesh), not a raster image: the SVG stays text and exact.
    mesh = ax.pcolormesh(values, cmap="Blues", vmin=0, vmax=top, edgecolors="white",
                         linewidth=1)
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value:
                ax.text(j + 0.5, i + 0.5, f"{value:,.0f}", ha="center", va="center",
                        fontsize=7, color="white" if value > top * 0.55 else "black")
    ax.set_xticks([j + 0.5 for j in range(len(beneficiaries))], _short(beneficiaries, 12))
    ax.set_yticks([i + 0.5 for i in range(len(contributors))], _short(contributors))
    ax.invert_yaxis()
    ax.xaxis.tick_top()
    ax.set_xlabel("benefitting state")
    ax.set_ylabel("contributor")
    ax.set_title("Flows from contributors to benefitting states", gid="title", pad=24)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    bar = fig.colorbar(mesh, ax=ax, label=unit, shrink=0.8)
    _thousands(bar.ax.yaxis)
    return to_svg(fig, "chart-flows")


@_styled
def stacked_counts(labels: Sequence[str], parts: Mapping[str, Sequence[float]], title: str,
                   unit: str, prefix: str) -> str | None:
    """Horizontal stacked bars of counts (the matching outcome per benefitting state)."""
    if not labels:
        return None
    fig, ax = _axes(WIDTH, 1.5 + 0.32 * len(labels), _label_width(labels), 0.2, 0.35, 1.0)
    y = list(range(len(labels)))[::-1]
    left = [0.0] * len(labels)
    wide = 0.04 * max(sum(v) for v in zip(*parts.values(), strict=True))  # room for a number
    for name, values in parts.items():
        if not any(values):
            continue
        bars = ax.barh(y, values, left=left, height=0.7, label=name.replace("_", " "),
                       color=OUTCOME_COLOURS.get(name))
        ax.bar_label(bars, labels=[f"{v:,.0f}" if v >= wide else "" for v in values],
                     label_type="center", fontsize=7)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(y, _short(labels))
    return _finish(fig, ax, "x", unit, title, len(parts), prefix)


@_styled
def bar_list(labels: Sequence[str], values: Sequence[float], title: str, unit: str,
             prefix: str, colour: str = "#d62728") -> str | None:
    """One horizontal bar per labelled item, with its value (the bottlenecks)."""
    if not labels:
        return None
    fig, ax = _axes(WIDTH, 1.5 + 0.3 * len(labels), _label_width(labels), 0.3, 0.35, 1.0)
    y = list(range(len(labels)))[::-1]
    bars = ax.barh(y, values, height=0.6, color=colour, label=unit)
    ax.bar_label(bars, fmt="{:,.0f}", fontsize=7, padding=2)
    ax.set_yticks(y, _short(labels))
    return _finish(fig, ax, "x", unit, title, 1, prefix)


@_styled
def grouped_bars(categories: Sequence[str], series: Mapping[str, Sequence[float]], title: str,
                 unit: str, prefix: str, colours: Sequence[str] = ()) -> str | None:
    """Bars per category, one per series side by side (a value per state per variant);
    `colours` one per series (a run keeps its colour from chart to chart), else in turn."""
    if not categories or not series:
        return None
    fig, ax = _axes(WIDTH, 4.0, 0.8, 0.2, 0.35, 1.2 if len(categories) > 20 else 1.0)
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series.items()):
        x = [j + (i - (len(series) - 1) / 2) * width for j in range(len(categories))]
        ax.bar(x, values, width=width, label=_short([name])[0],
               color=colours[i] if i < len(colours) else SERIES_COLOURS[i % len(SERIES_COLOURS)])
    ax.axhline(0, color="black", linewidth=0.6)
    _thousands(ax.yaxis)
    ax.set_xticks(range(len(categories)), _short(categories, 12),
                  rotation=90 if len(categories) > 20 else 0)
    return _finish(fig, ax, "y", unit, title, min(len(series), 6), prefix)
