"""Real browser: each page opened by URL as the first visit of a fresh server; the step slider
repaints the chart without a message to the server; a link restores the same chart in a fresh
browser; a run trained on the Train page opens on Playground and Compare; diverged curves are
marked; the phone layout keeps the chart in view. Screenshots land in screenshots/ (look at them)."""
import os
import time
from urllib.parse import parse_qs, urlparse

import pytest

from maml_viz.tasks import make_family

from browser import (SHOTS, browser, count_sent, open_chart_page, plot_data, scrub, server,
                     slider_active, slider_ticks, wait_for_trace, wait_idle, watch_trace)

PAGES = [("", "Learning to learn"), ("Playground", "Playground"), ("Train", "Train"),
         ("Compare", "Compare algorithms"), ("Navigation", "Navigation: learning to reach"),
         ("Handwriting", "Handwriting: new letters")]
ADAPTED = "(t.name || '').endsWith('after adapting')"


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """One server for the tests that only read the bundled runs."""
    with server(tmp_path_factory.mktemp("runs")) as (url, _):
        yield url


def no_exception(page):
    assert page.locator('[data-testid="stException"]').count() == 0


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.mark.parametrize("path,heading", PAGES)
def test_deep_link_first_visit_renders(chromium, tmp_path, path, heading):
    with server(tmp_path / "runs") as (url, t0):
        page = chromium.new_page(viewport={"width": 1400, "height": 3000})  # app scrolls inside
        page.goto(f"{url}/{path}")
        page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
        wait_idle(page)
        if path != "Train":
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
            wait_idle(page)
        ready = time.time() - t0
        no_exception(page)
        # the navigation offers every page (we are in the pages/ multipage app, not a lone script)
        nav = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]')
        texts = [t.strip().split()[-1] for t in nav.all_inner_texts()]
        assert {"Learn", "Playground", "Train", "Compare", "(RL)", "Handwriting"} <= set(texts), texts
        if path != "Train":
            data = plot_data(page)
            assert data and any(t["n"] > 0 for t in data)
        # every labelled input widget in the page's body shows a help icon beside its label
        unhelped = page.evaluate("""() => Array.from(document.querySelectorAll(
                '[data-testid="stMain"] [data-testid="stWidgetLabel"]'))
            .filter(l => l.innerText.trim() && !l.querySelector('[data-testid="stTooltipIcon"]'))
            .map(l => l.innerText.trim())""")
        assert unhelped == [], f"input widgets without a help icon: {unhelped}"
        shot(page, path or "Learn")
        print(f"{path or 'Learn'}: ready {ready:.1f} s after server start")
        page.close()


def test_scrubbing_repaints_in_the_browser_without_a_rerun(chromium, app_url):
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    sent = count_sent(page)
    page.goto(f"{app_url}/Playground")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    wait_idle(page)
    page.wait_for_timeout(500)
    watch_trace(page, 0, ADAPTED)
    before, n_sent = plot_data(page), len(sent)
    for step in (4, 7, 0):
        scrub(page, 0, step)
    assert len(sent) == n_sent, "moving the step slider sent messages to the server"
    assert slider_active(page) == 0
    assert plot_data(page) != before
    page.wait_for_timeout(400)                      # the address bar follows the slider
    assert parse_qs(urlparse(page.url).query)["step"] == ["0"]
    no_exception(page)
    page.close()


def test_a_link_restores_the_same_chart_in_a_fresh_browser(chromium, app_url):
    page = open_chart_page(chromium, app_url, "Playground?algo=reptile&k=5&task=2", 1000)
    watch_trace(page, 0, ADAPTED)
    scrub(page, 0, 6)
    page.wait_for_timeout(400)
    link, data = page.url, plot_data(page)
    q = parse_qs(urlparse(link).query)
    assert q["algo"] == ["reptile"] and q["k"] == ["5"] and q["task"] == ["2"] and q["step"] == ["6"]
    page.close()
    fresh = chromium.new_context(viewport={"width": 1400, "height": 1000})  # no session, no memory
    try:
        page = fresh.new_page()
        page.goto(link)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        wait_idle(page)
        page.wait_for_timeout(500)
        assert slider_active(page) == 6
        assert plot_data(page) == data
        no_exception(page)
        fresh.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
        page.get_by_role("button", name="Copy link to this view").click()
        page.get_by_role("button", name="Link copied").wait_for(timeout=5_000)
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert parse_qs(urlparse(copied).query) == parse_qs(urlparse(link).query)
    finally:
        fresh.close()


def test_settings_survive_a_visit_to_another_page(chromium, app_url):
    page = open_chart_page(chromium, app_url, "Playground?algo=fomaml", 1000)
    watch_trace(page, 0, ADAPTED)
    scrub(page, 0, 3)
    page.locator('[data-testid="stSidebar"]').get_by_text("Learn", exact=True).click()
    page.get_by_role("heading", name="Learning to learn").wait_for(timeout=60_000)
    wait_idle(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("Playground", exact=True).click()
    wait_for_trace(page, 0, "(t.name || '') === 'FOMAML after adapting'")
    wait_idle(page)
    # the page's script moves the redrawn chart back to step 3 (polls every 250 ms; slower
    # on a loaded machine): wait for it, then check
    page.wait_for_function("""() => { const gd = document.querySelector('.js-plotly-plot');
                                      return gd && gd._fullLayout.sliders[0].active === 3; }""",
                           timeout=10_000)
    assert slider_active(page) == 3
    q = parse_qs(urlparse(page.url).query)
    assert q["algo"] == ["fomaml"] and q["step"] == ["3"]
    page.close()


def test_diverged_curves_are_marked_and_navigation_starts_grey(chromium, app_url):
    # under the evaluation protocol no bundled curve diverges any more (each run's step size is
    # chosen on validation tasks); a step size the user sets too large does
    page = open_chart_page(chromium, app_url, "Playground?algo=maml&lr=5", 1400)
    page.wait_for_selector("text=diverged (step", timeout=30_000)
    assert page.get_by_text("the predictions blew up at step").count() == 1
    no_exception(page)
    shot(page, "Playground-diverged")
    page.close()
    page = open_chart_page(chromium, app_url, "Navigation", 1000)
    watch_trace(page, 0, ADAPTED.replace("endsWith('after adapting')", "includes('after')"))
    scrub(page, 0, 0)
    data = plot_data(page)
    before = next(t for t in data if t["name"] == "before adapting")
    adapted = next(t for t in data if "after" in t["name"])
    assert before["n"] > 0 and adapted["n"] == 0
    color = page.evaluate("""() => document.querySelector('.js-plotly-plot')._fullData
                             .find(t => t.name === 'before adapting').line.color""")
    assert color.lower() == "#9e9e9e"
    page.close()


def test_phone_keeps_the_chart_in_view_after_a_step_change(chromium, app_url):
    page = chromium.new_page(viewport={"width": 390, "height": 844})
    sent = count_sent(page)
    page.goto(f"{app_url}/Playground")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    wait_idle(page)
    page.wait_for_timeout(800)                   # the phone layout is applied in the browser
    watch_trace(page, 0, ADAPTED)
    n = len(sent)
    scrub(page, 0, 5)
    assert len(sent) == n
    box = page.locator(".js-plotly-plot").first.bounding_box()
    visible = min(box["y"] + box["height"], 844) - max(box["y"], 0)
    assert visible > 0.5 * 844, box                # the chart fills most of the screen
    chart_top = box["y"]
    controls = page.get_by_text("Task family").first.bounding_box()
    assert controls["y"] > chart_top                # the chart comes before the controls
    shot(page, "Playground-phone-step5")
    page.close()


def test_training_survives_widget_moves_and_the_run_opens_everywhere(chromium, tmp_path):
    with server(tmp_path / "runs") as (url, _):
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/Train")
        page.get_by_role("heading", name="Train").first.wait_for(timeout=60_000)
        wait_idle(page)
        page.get_by_role("spinbutton", name="Meta-iterations").fill("1500")
        page.get_by_role("spinbutton", name="Seed", exact=True).fill("3")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("training ·").first.wait_for(timeout=60_000)
        # move a widget outside the form while training runs: pick another stored run
        page.get_by_role("heading", name="Stored runs").wait_for(timeout=30_000)
        box = page.get_by_label("Run", exact=True)
        box.click()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        wait_idle(page)
        page.get_by_text("MAML on Sine waves (K=10, 1,500 iterations, seed 3): done").first.wait_for(
            timeout=120_000)
        wait_idle(page)
        keys = os.listdir(tmp_path / "runs")
        assert len(keys) == 1, "exactly one run should have trained"
        key = keys[0]
        no_exception(page)
        shot(page, "Train-done")
        # "Open in Playground" on the finished job opens it; the picker lists it by a plain label
        link = page.get_by_role("link", name="Open in Playground").first.get_attribute("href")
        assert link.endswith(f"Playground?run={key}"), link
        page.goto(f"{url}/Playground?run={key}")
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        wait_idle(page)
        chosen = page.get_by_role("combobox", name="Run").input_value()
        assert chosen.startswith("MAML · K=10 · 1,500 it · seed 3") and "trained" in chosen
        assert parse_qs(urlparse(page.url).query)["run"] == [key]
        # on Compare, beside the bundled Reptile: the training chart is the common measure
        from maml_viz.registry import make_config
        reptile = make_config(family="sinusoid", algo="reptile").key()
        page.goto(f"{url}/Compare?runs={key},{reptile}")
        page.get_by_text("During training: the same measure for every run").wait_for(timeout=60_000)
        wait_idle(page)
        titles = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
                                  .map(g => g._fullLayout.yaxis.title.text)""")
        assert any("validation tasks" in t for t in titles), titles
        # both runs drawn on it: the one just trained and the bundled Reptile (bundled runs
        # record the validation measure too)
        names = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
            .filter(g => (g._fullLayout.yaxis.title.text || '').includes('validation tasks'))
            .map(g => g._fullData.map(t => t.name || '').join('|'))""")
        assert any("Reptile" in n and "MAML" in n for n in names), names
        no_exception(page)
        shot(page, "Compare-user-run")
        page.close()


def _click_plot(page, index, fx=0.5, fy=0.5):
    """Click inside the main plotting area of the index-th Plotly chart at fractions (fx, fy)."""
    area = page.locator(".js-plotly-plot").nth(index).locator(".nsewdrag").first
    box = area.bounding_box()
    page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.wait_for_timeout(300)           # let Plotly register the hover before the click
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


def test_playground_clicks_add_points_to_the_task(chromium, app_url):
    page = open_chart_page(chromium, app_url, "Playground?task=5", 1400)
    _click_plot(page, 0, 0.3, 0.3)
    wait_for_trace(page, 0, "t.name === 'your 1 point'")
    wait_idle(page)
    _click_plot(page, 0, 0.7, 0.7)
    wait_for_trace(page, 0, "t.name === 'your 2 points'")
    wait_idle(page)
    assert any(t["name"] == "the task's 10 points" for t in plot_data(page))
    no_exception(page)
    shot(page, "Playground-clicks")
    page.get_by_role("button", name="Clear points").click()
    page.wait_for_function("""() => { const p = document.querySelector('.js-plotly-plot');
                              return p && p._fullData &&
                                     !p._fullData.some(t => (t.name || '').startsWith('your')); }""",
                           timeout=30_000)
    page.close()


def test_playground_classification_labelled_clicks(chromium, app_url):
    page = open_chart_page(chromium, app_url, "Playground?family=blobs&task=5", 1400)
    page.locator('[data-testid="stRadio"] label').filter(has_text="class 2").click()
    wait_idle(page)
    wait_for_trace(page, 0, "t.type === 'heatmap'")
    # the middle map (after adapting) is the second drag area of the chart
    area = page.locator(".js-plotly-plot").first.locator(".nsewdrag").nth(1)
    box = area.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(300)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_trace(page, 0, "t.name === 'your examples' && t.text[0] === '2'")
    wait_idle(page)
    no_exception(page)
    shot(page, "Playground-blobs")
    page.close()


GUESSES = """() => { const p = document.querySelectorAll('.js-plotly-plot')[0];
    const t = p._fullData.find(d => (d.name || '').startsWith('guesses'));
    return [t.name, Array.from(t.text)]; }"""


def test_handwriting_step_slider_changes_guesses_in_the_browser_without_a_rerun(chromium, app_url):
    for w, h in ((1400, 900), (390, 844)):
        page = chromium.new_page(viewport={"width": w, "height": h})
        sent = count_sent(page)
        page.goto(f"{app_url}/Handwriting")
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        wait_idle(page)
        page.wait_for_timeout(500)
        no_exception(page)
        page.screenshot(path=os.path.join(SHOTS, f"Handwriting-{w}.png"))
        name0, before = page.evaluate(GUESSES)
        assert name0 == "guesses after 1 steps"          # it opens after one step
        n_sent = len(sent)
        seen = {}
        last = make_family("omniglot").eval_steps
        for step in (0, last):                            # before learning, and the last step
            x, y = slider_ticks(page, 0)[step]
            page.mouse.click(x, y)
            page.wait_for_function(f"""() => document.querySelectorAll('.js-plotly-plot')[0]
                ._fullData.some(d => d.name === 'guesses after {step} steps')""", timeout=10_000)
            seen[step] = page.evaluate(GUESSES)[1]
        assert seen[0] != before and len(seen[0]) == len(before) == len(seen[last]) == 15
        assert len(sent) == n_sent, "moving the step slider sent messages to the server"
        page.screenshot(path=os.path.join(SHOTS, f"Handwriting-{w}-step{last}.png"))
        page.close()


def test_handwriting_canvas_takes_strokes_and_classifies_the_drawing(chromium, app_url):
    page = chromium.new_page(viewport={"width": 1400, "height": 2600})
    page.goto(f"{app_url}/Handwriting")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    wait_idle(page)
    find = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).findIndex(
              p => p._fullData && p._fullData.some(t => t.name === 'canvas'))"""
    strokes = """() => { const p = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
              p => p._fullData && p._fullData.some(t => t.name === 'canvas'));
              return p._fullData.find(t => t.name === 'your strokes').x.length; }"""
    assert page.evaluate(strokes) == 0
    for n, stroke in enumerate(([(0.2, 0.8), (0.35, 0.5), (0.5, 0.2), (0.65, 0.5), (0.8, 0.8)],
                                [(0.3, 0.55), (0.4, 0.545), (0.5, 0.56), (0.7, 0.553)])):
        box = page.locator(".js-plotly-plot").nth(page.evaluate(find)).locator(
            ".nsewdrag").first.bounding_box()
        at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        page.mouse.move(*at(*stroke[0]))
        page.mouse.down()
        for p in stroke[1:]:
            page.mouse.move(*at(*p), steps=6)
        page.mouse.up()
        page.wait_for_function(f"() => ({strokes})() > {3 * n + 2}", timeout=30_000)
        wait_idle(page)
    page.get_by_text("Your drawing").first.wait_for(timeout=30_000)
    no_exception(page)
    shot(page, "Handwriting-drawing")
    page.get_by_role("button", name="Clear my drawing").click()
    page.wait_for_function(f"() => ({strokes})() === 0", timeout=30_000)
    page.close()
