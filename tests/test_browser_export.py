"""Figures out, in the real browser (issue 23, item 4): the PNG and SVG buttons under a chart
(pages/_shared/export.js) save the chart as shown at publication size with print-size fonts:
the SVG parses, has the export's size, the chart's own traces (the legend's layer names) and
its axis text at the export font size; the PNG is the export size times its scale. On the
Inside page (bundled ANIL) and on Compare (the averaged chart)."""
import re
import struct
import xml.etree.ElementTree as ET

import pytest
from browser import IDLE, server

from maml_viz.engine.registry import make_config
from maml_viz.views.figures.paper import EXPORT


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with server(tmp_path_factory.mktemp("runs"), timeout=180) as (url, _):
        yield url


def download(page, key, fmt) -> bytes:
    button = page.locator(f".st-key-{key} [data-maviz-export] button", has_text=fmt.upper())
    button.wait_for(timeout=240_000)
    page.wait_for_selector(IDLE, timeout=240_000)
    with page.expect_download(timeout=120_000) as dl:
        button.click()
    assert dl.value.suggested_filename == f"maml-viz-{key}.{fmt}"
    with open(dl.value.path(), "rb") as f:
        return f.read()


def png_size(data: bytes) -> tuple:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def svg_texts(data: bytes) -> list:
    root = ET.fromstring(data.decode())
    assert root.tag.endswith("svg")
    assert (float(root.get("width")), float(root.get("height"))) == (EXPORT["width"],
                                                                      EXPORT["height"])
    return [(el.text or "", el.get("style") or "") for el in root.iter()
            if el.tag.endswith("text")]


def test_inside_chart_downloads_as_svg_and_png_at_publication_size(chromium, app_url):
    key = make_config(family="sinusoid", algo="anil").key()
    page = chromium.new_page(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    page.goto(f"{app_url}/Inside?family=sinusoid&run={key}&steps=3&task=-1")
    texts = svg_texts(download(page, "in_change", "svg"))
    words = [t for t, _ in texts]
    assert {"l0", "l1", "l2"} <= set(words) and "adaptation step" in words
    axis = next(style for t, style in texts if t == "adaptation step")
    assert re.search(rf"font-size:\s*{EXPORT['font']}px", axis), axis
    w, h = png_size(download(page, "in_change", "png"))
    assert (w, h) == (EXPORT["width"] * EXPORT["scale"], EXPORT["height"] * EXPORT["scale"])
    page.close()


def test_compare_averaged_chart_downloads_with_its_runs(chromium, app_url):
    keys = [make_config(family="sinusoid", algo=a).key() for a in ("maml", "reptile")]
    page = chromium.new_page(viewport={"width": 1400, "height": 3000}, accept_downloads=True)
    page.goto(f"{app_url}/Compare?runs={','.join(keys)}&k=5")
    words = [t for t, _ in svg_texts(download(page, "cmp_curves", "svg"))]
    assert "MAML" in words and "Reptile" in words
    assert "MAML: MAML paper, Appendix C.1, Table 2" in words       # the paper's marks too
    page.close()
