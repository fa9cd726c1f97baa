"""Navigation in a real browser (issue 20 item 10, issue 21): a click anywhere on the plane and a
tap on a phone (Chromium's touch emulation) place the goal exactly where they land and the page
rolls the policy out for it itself, with no message to the server; "Random goal" does the same
and the returns drawn are the engine's for that goal and seed; on a phone no chart toolbar
covers a chart, and the sidebar closes once a page is chosen in it. Every wait is on a
condition, with deadlines that only bound a hang."""
import re
from urllib.parse import parse_qs, urlparse

import os

import numpy as np
import pytest
from browser import ROOT, wait_idle

PLANE = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(g => g._fullData && g._fullData.some(t => t.name === 'goal'))"""
ADAPTED = f"""() => {{ const gd = ({PLANE})();
    const t = gd && gd._fullData.find(t => (t.name || '').endsWith('after adapting'));
    return t ? Array.from(t.x).slice(0, 30).join(',') : ''; }}"""


URL_WRITTEN = """() => { const r = document.querySelector('[data-maviz-nav]');
    return r && r.dataset.url === '1' && r.dataset.drawn === '1'; }"""


def open_nav(chromium, url, width, height, touch=False, query=""):
    ctx = chromium.new_context(viewport={"width": width, "height": height}, has_touch=touch,
                               is_mobile=touch)
    page = ctx.new_page()
    page.goto(f"{url}/Navigation{query}")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
    wait_idle(page)
    page.wait_for_function(f"() => !!({PLANE})()", timeout=60_000)
    page.wait_for_timeout(500)                  # the phone layout is applied in the browser
    return ctx, page


def url_goal(page):
    q = parse_qs(urlparse(page.url).query)
    return tuple(float(v) for v in q["goal"][0].split(","))


def place(page, fx, fy, tap=False):
    """Click (or tap) the plane at a fraction of its plot area; returns the plane coordinates
    the axes give for that pixel, after the server has redrawn the plane for them."""
    page.evaluate(f"() => ({PLANE})().scrollIntoView({{block: 'center'}})")
    page.wait_for_timeout(300)
    box = page.evaluate(f"""() => {{ const gd = ({PLANE})(), L = gd._fullLayout,
        b = gd.getBoundingClientRect();
        return {{x: b.left + L.xaxis._offset, y: b.top + L.yaxis._offset, w: L.xaxis._length,
                 h: L.yaxis._length, x0: L.xaxis.range[0], x1: L.xaxis.range[1],
                 y0: L.yaxis.range[0], y1: L.yaxis.range[1]}}; }}""")
    px, py = box["x"] + fx * box["w"], box["y"] + fy * box["h"]
    want = (box["x0"] + fx * (box["x1"] - box["x0"]), box["y1"] - fy * (box["y1"] - box["y0"]))
    before = page.evaluate(ADAPTED)
    if tap:
        page.touchscreen.tap(px, py)
    else:
        page.mouse.click(px, py)
    heading = re.compile(rf"toward the goal \({want[0]:.2f}, {want[1]:.2f}\)".replace("-0.00", "0.00"))
    page.get_by_text(heading).wait_for(timeout=90_000)          # the new tries drawn
    page.wait_for_function(f"(old) => ({ADAPTED})() !== old", arg=before, timeout=90_000)
    page.wait_for_function(URL_WRITTEN, timeout=30_000)
    wait_idle(page)
    return want


@pytest.mark.parametrize("width,height,tap", [(1400, 900, False), (390, 844, True)])
def test_a_click_or_a_tap_anywhere_on_the_plane_places_the_goal_there(chromium, app_url, width,
                                                                     height, tap):
    ctx, page = open_nav(chromium, app_url, width, height, touch=tap)
    sent = watch(page)
    # off the old click grid's points (every 0.05): a click there used to do nothing
    for fx, fy in ((0.231, 0.313), (0.777, 0.662), (0.5, 0.12)):
        want = place(page, fx, fy, tap=tap)
        got = url_goal(page)
        assert abs(got[0] - want[0]) < 0.006 and abs(got[1] - want[1]) < 0.006, (got, want)
        goal = page.evaluate(f"""() => {{ const t = ({PLANE})()._fullData.find(t => t.name === 'goal');
                                         return [t.x[0], t.y[0]]; }}""")
        assert abs(goal[0] - got[0]) < 1e-9 and abs(goal[1] - got[1]) < 1e-9
    assert sent == [], "a click on the plane went to the server"
    assert page.locator('[data-testid="stException"]').count() == 0
    ctx.close()


def watch(page):
    """The messages the page sends to the server from now on."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda p: sent.append(p)))
    page.reload()                                # the listener sees the page's own socket
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
    wait_idle(page)
    page.wait_for_function(URL_WRITTEN, timeout=60_000)
    page.wait_for_timeout(300)
    sent.clear()                                 # (the page's own start-up messages)
    return sent


def test_random_goal_rolls_out_in_the_page_the_engines_tries(chromium, app_url):
    from maml_viz.engine import noise
    from maml_viz.engine.registry import make_config
    from maml_viz.runs.store import RunStore
    from maml_viz.views import navigation as nav
    ctx, page = open_nav(chromium, app_url, 1400, 900)
    sent = watch(page)
    seed = int(parse_qs(urlparse(page.url).query)["seed"][0])
    for i in (1, 2):
        before = url_goal(page)
        page.get_by_role("button", name="Random goal").click()
        page.wait_for_function(f"() => location.search.includes('seed={seed + i}')", timeout=60_000)
        page.wait_for_function(URL_WRITTEN, timeout=60_000)
        assert url_goal(page) != before and url_goal(page) == noise.goal(seed + i, -0.5, 0.5)
    assert sent == [], "Random goal went to the server"
    store = RunStore([os.path.join(ROOT, "assets", "runs")])
    run = store.get(make_config(family="navigation", algo="maml"))
    ret = nav.rollouts(run, url_goal(page), run.family.eval_steps, seed + 2)[1]
    drawn = page.evaluate("() => document.querySelector('[data-maviz-nav]').__nav.res.ret")
    np.testing.assert_allclose(drawn, ret, atol=1e-7, rtol=0)
    shown = page.evaluate(f"""() => {{ const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
        .find(g => g._fullData && g._fullData.some(t => t.name === 'return'));
        return gd._fullData.find(t => t.name === 'return').y; }}""")
    on = [v for v in shown if v is not None]
    assert on and all(any(abs(v - r) < 1e-9 for r in ret) for v in on)
    ctx.close()


def test_on_a_phone_no_toolbar_covers_a_chart(chromium, app_url):
    ctx, page = open_nav(chromium, app_url, 390, 844, touch=True)
    charts = page.locator(".js-plotly-plot")
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        if page.evaluate("(i) => document.querySelectorAll('.js-plotly-plot')[i]._fullData"
                         ".some(t => t.name === 'goal')", i):
            continue                                  # the plane: a tap there moves the goal
        box = chart.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
        page.wait_for_timeout(400)
        covering = page.evaluate("""(i) => {
            const gd = document.querySelectorAll('.js-plotly-plot')[i], c = gd.getBoundingClientRect();
            const hit = (b) => b.width > 0 && b.height > 0 && b.left < c.right && b.right > c.left
                               && b.top < c.bottom && b.bottom > c.top;
            const seen = (el) => { const s = getComputedStyle(el);
                                   return s.display !== 'none' && s.visibility !== 'hidden'
                                          && Number(s.opacity) > 0.05; };
            return Array.from(document.querySelectorAll(
                '.modebar, [data-testid="stElementToolbar"]'))
                .filter(el => seen(el) && hit(el.getBoundingClientRect())).length; }""", i)
        assert covering == 0, f"a toolbar covers chart {i}"
    ctx.close()


def test_on_a_phone_the_sidebar_closes_once_a_page_is_chosen(chromium, app_url):
    ctx, page = open_nav(chromium, app_url, 390, 844, touch=True)
    page.locator('[data-testid="stExpandSidebarButton"]').click()
    page.wait_for_function("""() => document.querySelector('[data-testid="stSidebar"]')
                              .getAttribute('data-collapsed') === 'false'""", timeout=30_000)
    page.get_by_role("link", name="Handwriting").tap()
    page.get_by_role("heading", name=re.compile("Handwriting: new letters")).wait_for(timeout=120_000)
    page.wait_for_function("""() => document.querySelector('[data-testid="stSidebar"]')
                              .getAttribute('data-collapsed') === 'true'""", timeout=30_000)
    ctx.close()
