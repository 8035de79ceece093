"""Charts drawn on the server by Matplotlib, as SVG: for the screen and for print.

An SVG chart needs no script on the page, prints sharp on A4 and travels
inside a report file. Text stays text (``svg.fonttype: none``): the reader's
browser sets it in a Chinese font (Noto Sans CJK when installed, the
system's otherwise), so no font file is needed on the server. Charts are
cached by their data: the same numbers are drawn once.
"""

from __future__ import annotations

import base64
import io
import logging
import threading
import warnings
from datetime import date
from functools import lru_cache
from typing import Any

BLUE = "#0b4ea2"
LIGHT = "#7fa7d9"
GREY = "#8a8f98"
COLOURS = {"red": "#c62828", "orange": "#e65100", "yellow": "#f2b705", "": GREY}
FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
         "WenQuanYi Micro Hei", "DejaVu Sans"]
WIDTH = 5.2  # inches; SVG user units are points (72 per inch)
_setup = threading.Lock()
_drawing = threading.Lock()
_ready = False


def _matplotlib() -> Any:
    """Matplotlib, imported on first use (it takes a while) and set up once."""
    global _ready
    import matplotlib

    with _setup:
        if not _ready:
            matplotlib.use("svg")
            # Missing Chinese glyphs in the fallback font are expected when
            # no CJK font is installed: the browser draws the text anyway.
            logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
            matplotlib.rcParams.update({
                "svg.fonttype": "none", "svg.hashsalt": "jidu", "font.family": FONTS,
                "font.size": 10, "axes.edgecolor": "#c8ccd2", "axes.spines.top": False,
                "axes.spines.right": False, "xtick.color": "#333", "ytick.color": "#333",
            })
            _ready = True
    return matplotlib


def _width(text: str) -> float:
    """Rough width of a label in inches at 10 pt (CJK characters are a full em)."""
    return sum(0.14 if ord(ch) > 0x2E80 else 0.075 for ch in text)


def _svg(figure: Any) -> str:
    out = io.StringIO()
    # One drawing at a time (it is CPU-bound anyway): warning filters are
    # process-wide, and "Glyph … missing from font" is expected (see _matplotlib).
    with _drawing, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    # The XML prologue and DOCTYPE are not wanted when the SVG is inlined.
    return text[text.index("<svg"):]


@lru_cache(maxsize=256)
def bars(items: tuple[tuple[str, int], ...], colours: tuple[str, ...] | None = None) -> str:
    """Horizontal bars in the order given, top down, each with its number at its end.

    The title belongs to the page (a heading beside the image), not the image."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    _matplotlib()
    rows = max(len(items), 1)
    height = 0.45 + 0.3 * rows
    figure = Figure(figsize=(WIDTH, height))
    left = min(0.55, (max((_width(label) for label, _ in items), default=0.5) + 0.15) / WIDTH)
    figure.subplots_adjust(left=left, right=0.9, top=1 - 0.1 / height, bottom=0.3 / height)
    axes = figure.subplots()
    if not items:
        axes.set_axis_off()
        axes.text(0.5, 0.5, "—", ha="center", va="center", transform=axes.transAxes)
        return _svg(figure)
    labels = [label for label, _ in items][::-1]
    values = [value for _, value in items][::-1]
    palette = list(colours)[::-1] if colours else BLUE
    drawn = axes.barh(range(len(items)), values, color=palette, height=0.66)
    axes.set_yticks(range(len(items)), labels)
    axes.bar_label(drawn, labels=[f"{v:,}" for v in values], padding=3, fontsize=9)
    axes.tick_params(axis="y", length=0)
    axes.tick_params(axis="x", labelsize=8)
    axes.set_xlim(0, max(values) * 1.12 or 1)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _svg(figure)


@lru_cache(maxsize=64)
def daily(days: tuple[date, ...], lines: tuple[tuple[str, tuple[int, ...]], ...]) -> str:
    """Daily lines (received and closed), with a legend."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    _matplotlib()
    figure = Figure(figsize=(WIDTH * 1.6, 2.8))
    figure.subplots_adjust(left=0.06, right=0.98, top=0.86, bottom=0.2)
    axes = figure.subplots()
    x: Any = list(days)
    for (name, values), colour in zip(lines, (BLUE, "#2e7d32", LIGHT), strict=False):
        if len(days) > 1:
            axes.plot(x, values, color=colour, linewidth=1.6, label=name)
        else:
            axes.bar(x, values, color=colour, label=name)
    locator = AutoDateLocator(maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator, formats=[
        "%Y", "%m月", "%m-%d", "%H:%M", "%H:%M", "%S"], offset_formats=[
        "", "%Y", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"]))
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", color="#e3e6ea", linewidth=0.8)
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1), frameon=False, ncols=len(lines),
                fontsize=9, borderaxespad=0.2)
    return _svg(figure)


def svg_response(svg: str) -> Any:
    """An HTTP response for a chart: Matplotlib styles its shapes inline, and an
    SVG shown as an image runs no script, so its own policy allows only that."""
    from flask import Response

    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


def data_uri(svg: str) -> str:
    """The chart as an ``<img src>`` that travels inside a report file."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@lru_cache(maxsize=128)
def band(days: tuple[date, ...], counts: tuple[int, ...], expected: tuple[float, ...],
         upper: tuple[int, ...], flagged: tuple[bool, ...], labels: tuple[str, str, str]) -> str:
    """An early-warning series: daily clues as bars (flagged days in red), the
    expected count and the upper limit of the expected band as lines."""
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    _matplotlib()
    figure = Figure(figsize=(WIDTH * 1.6, 2.6))
    figure.subplots_adjust(left=0.06, right=0.98, top=0.84, bottom=0.16)
    axes = figure.subplots()
    x: Any = list(days)
    axes.bar(x, counts, color=[COLOURS["red"] if f else GREY for f in flagged], width=0.7,
             label=labels[0])
    axes.plot(x, expected, color=BLUE, linewidth=1.4, label=labels[1])
    axes.step(x, upper, where="mid", color=BLUE, linewidth=1.2, linestyle="--",
              label=labels[2])
    axes.xaxis.set_major_formatter(DateFormatter("%m-%d"))
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", color="#e3e6ea", linewidth=0.8)
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1), frameon=False, ncols=3, fontsize=9,
                borderaxespad=0.2)
    return _svg(figure)
