"""The SVG charts: valid SVG, accessible text, axes, escaping and links."""

import xml.etree.ElementTree as ET
from decimal import Decimal

from messaging.reports.charts import Series, bar_chart, integer, line_chart, money, nice_ticks

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_bar_chart_is_labelled_svg_with_axes_values_and_links():
    svg = bar_chart(
        "Spend per day",
        ["Nov 01", "Nov 02"],
        [Series("Spend", [Decimal("1.50"), Decimal("3.25")], ["/a?x=1&y=2", None])],
        fmt=money,
    )
    root = parse(svg)
    assert root.get("role") == "img"
    title = root.find("svg:title", NS)
    desc = root.find("svg:desc", NS)
    assert title is not None and title.text == "Spend per day"
    assert desc is not None and "total $4.75" in desc.text and "Nov 01 to Nov 02" in desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    bars = root.findall(".//svg:rect[@class='bar']", NS)
    assert [b.find("svg:title", NS).text for b in bars] == [
        "Nov 01: Spend $1.50",
        "Nov 02: Spend $3.25",
    ]
    # The taller bar is taller, and both stand on the x axis.
    assert float(bars[1].get("height")) > float(bars[0].get("height")) > 0
    links = root.findall("svg:a", NS)
    assert [a.get("href") for a in links] == ["/a?x=1&y=2"]
    ticks = [t.text for t in root.findall(".//svg:text[@class='tick']", NS)]
    assert ticks[:5] == ["$0.00", "$1.00", "$2.00", "$3.00", "$4.00"]
    assert "Nov 01" in ticks and "Nov 02" in ticks


def test_line_chart_escapes_labels_and_draws_one_line_per_series():
    svg = line_chart(
        "Opt-ins <and> opt-outs",
        ["<b>", "d2"],
        [Series("Opt-ins", [1, 4]), Series("Opt-outs", [0, 2])],
        fmt=integer,
    )
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    root = parse(svg)
    assert len(root.findall("svg:polyline", NS)) == 2
    assert len(root.findall("svg:circle", NS)) == 4
    legend = [t.text for t in root.findall("svg:text[@class='legend']", NS)]
    assert legend == ["Opt-ins", "Opt-outs"]


def test_empty_charts_render_a_zero_axis():
    root = parse(bar_chart("Nothing", [], [Series("Spend", [])], fmt=money))
    assert root.find("svg:desc", NS).text.endswith("no data.")
    assert parse(line_chart("Zeros", ["a"], [Series("n", [0])], fmt=integer)) is not None


def test_nice_ticks():
    assert nice_ticks(0) == [0.0, 1.0]
    assert nice_ticks(9) == [0, 2.5, 5.0, 7.5, 10.0]
    assert nice_ticks(1, whole=True) == [0, 1]
    assert nice_ticks(0.03) == [0, 0.01, 0.02, 0.03]
