"""Real browser: each page opened by URL as the first visit of a fresh server; the step slider
repaints the chart without a message to the server; a run trained on the Train page opens on
Playground and Compare; diverged curves are marked; the phone layout keeps the chart in view.
(The Playground's controls, links and clicks: tests/test_browser_playground.py.) Screenshots
land in screenshots/ (look at them)."""
import os
import time
from urllib.parse import parse_qs, urlparse

import pytest
from browser import (SHOTS, count_sent, open_chart_page, plot_data, server, slider_ticks,
                     wait_idle)

from maml_viz.engine.tasks import make_family

PAGES = [("", "Learning to learn"), ("Playground", "Playground"), ("Train", "Train"),
         ("Compare", "Compare algorithms"), ("Navigation", "Navigation: learning to reach"),
         ("Handwriting", "Handwriting: new letters"),
         ("Inside", "Inside the network")]


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
        assert {"Learn", "Playground", "Train", "Compare", "(RL)", "Handwriting", "network"} <= set(texts), texts
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


def test_diverged_curves_are_marked_and_navigation_starts_grey(chromium, app_url):
    # under the evaluation protocol no bundled curve diverges any more (each run's step size is
    # chosen on validation tasks); a step size the user sets too large does
    page = open_chart_page(chromium, app_url, "Playground?algo=maml&lr=5", 1400)
    page.wait_for_selector("text=blew up at step", timeout=30_000)
    assert page.locator("[data-maviz-pg] [data-notes]").get_by_text(
        "the predictions blew up at step").count() == 1
    no_exception(page)
    shot(page, "Playground-diverged")
    page.close()
    page = open_chart_page(chromium, app_url, "Navigation", 1000)
    page.wait_for_selector("[data-maviz-nav][data-drawn='1']", timeout=60_000)
    page.evaluate("""() => { const s = document.querySelector('[data-maviz-nav] [data-step]');
                             s.value = '0'; s.dispatchEvent(new Event('input', {bubbles: true})); }""")
    plane = """() => Array.from(document.querySelectorAll('[data-maviz-nav] .js-plotly-plot'))
        .find(g => g._fullData && g._fullData.some(t => t.name === 'goal'))._fullData"""
    page.wait_for_function(f"() => ({plane})().find(t => (t.name || '').includes('after'))"
                           ".x.length === 0", timeout=30_000)
    data = page.evaluate(f"""() => ({plane})().map(t => ({{name: t.name, n: (t.x || []).length,
                                                          color: (t.line || {{}}).color}}))""")
    before = next(t for t in data if t["name"] == "before adapting")
    assert before["n"] > 0 and before["color"].lower() == "#9e9e9e"      # step 0: grey only
    assert page.locator("[data-maviz-nav] [data-stepv]").inner_text() == "before adapting"
    page.close()


def test_phone_keeps_the_chart_in_view_after_a_step_change(chromium, app_url):
    page = chromium.new_page(viewport={"width": 390, "height": 844})
    sent = count_sent(page)
    page.goto(f"{app_url}/Playground")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    wait_idle(page)
    page.wait_for_selector('[data-maviz-pg][data-ready="1"]', timeout=60_000)
    n = len(sent)
    page.locator("[data-maviz-pg] [data-step]").focus()       # the step shown, in the browser
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('[data-maviz-pg]').__pg.view.step === 5")
    assert len(sent) == n
    box = page.locator("[data-maviz-pg] [data-panels]").bounding_box()
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
        from maml_viz.engine.registry import make_config
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
