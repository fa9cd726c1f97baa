"""Real browser: each page opened by URL as the first visit of a fresh server; no exception, a
drawn Plotly chart; the step slider changes the chart; a short training survives a widget move.
Screenshots land in screenshots/ (look at them)."""
import os
import time

import pytest

from browser import SHOTS, browser, open_chart_page, plot_data, server, wait_for_trace, wait_idle

PAGES = [("", "Learning to learn"), ("Playground", "Playground"), ("Train", "Train"),
         ("Compare", "Compare algorithms"), ("Navigation", "Navigation: learning to reach"),
         ("Handwriting", "Handwriting: new letters")]


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.mark.parametrize("path,heading", PAGES)
def test_deep_link_first_visit_renders(chromium, tmp_path, path, heading):
    os.makedirs(SHOTS, exist_ok=True)
    with server(tmp_path / "runs") as (url, t0):
        page = chromium.new_page(viewport={"width": 1400, "height": 3000})  # app scrolls inside
        page.goto(f"{url}/{path}")
        page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
        wait_idle(page)
        if path != "Train":
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
            wait_idle(page)
        ready = time.time() - t0
        assert page.locator('[data-testid="stException"]').count() == 0
        # the navigation offers every page (we are in the pages/ multipage app, not a lone script)
        nav = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]')
        texts = nav.all_inner_texts()
        assert [t.strip().split()[-1] for t in texts] == ["Learn", "Playground", "Train", "Compare",
                                                         "(RL)", "Handwriting"], texts
        if path != "Train":
            data = plot_data(page)
            assert data and any(t["n"] > 0 for t in data)
        page.screenshot(path=os.path.join(SHOTS, f"{path or 'Learn'}.png"), full_page=True)
        print(f"{path or 'Learn'}: ready {ready:.1f} s after server start")
        page.close()


def test_playground_step_slider_changes_the_chart(chromium, tmp_path):
    with server(tmp_path / "runs") as (url, _):
        page = open_chart_page(chromium, url, "Playground", 1000)

        def adapted():
            d = plot_data(page, 0)
            return next(t["y"] for t in d if t["name"].startswith("after"))

        before = adapted()
        slider = page.get_by_role("slider", name="Show the prediction after this many steps")
        slider.focus()
        for _ in range(3):
            slider.press("ArrowRight")
        wait_for_trace(page, 0, "(t.name || '').startsWith('after 4')")
        wait_idle(page)
        after = adapted()
        assert after != before
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=os.path.join(SHOTS, "Playground-step4.png"), full_page=True)
        page.close()


def test_training_survives_widget_moves_and_finishes(chromium, tmp_path):
    with server(tmp_path / "runs") as (url, _):
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/Train")
        page.get_by_role("heading", name="Train").first.wait_for(timeout=60_000)
        wait_idle(page)
        it = page.get_by_label("Meta-iterations")
        it.fill("1500")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("running").first.wait_for(timeout=30_000)
        # move a widget outside the form while training runs: pick another stored run
        page.get_by_role("heading", name="Stored runs").wait_for(timeout=30_000)
        box = page.get_by_label("Run", exact=True)
        box.click()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        wait_idle(page)
        assert page.get_by_text("running").count() > 0 or page.get_by_text(": done").count() > 0
        page.get_by_text("MAML on Sine waves (K=10, seed 0): done").first.wait_for(timeout=120_000)
        wait_idle(page)
        assert len(os.listdir(tmp_path / "runs")) == 1, "exactly one run should have trained"
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=os.path.join(SHOTS, "Train-done.png"), full_page=True)
        page.close()


def _click_plot(page, index, fx=0.5, fy=0.5):
    """Click inside the plotting area of the index-th Plotly chart at fractions (fx, fy)."""
    area = page.locator(".js-plotly-plot").nth(index).locator(".nsewdrag").first
    box = area.bounding_box()
    page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.wait_for_timeout(300)           # let Plotly register the hover before the click
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


def test_playground_click_adds_points_and_adapts_to_them(chromium, tmp_path):
    with server(tmp_path / "runs") as (url, _):
        page = open_chart_page(chromium, url, "Playground", 1400)
        _click_plot(page, 0, 0.3, 0.3)
        wait_for_trace(page, 0, "t.name === 'the 1 point it sees'")
        wait_idle(page)
        _click_plot(page, 0, 0.7, 0.7)
        wait_for_trace(page, 0, "t.name === 'the 2 points it sees'")
        wait_idle(page)
        assert page.get_by_role("button", name="Clear my points").is_enabled()
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=os.path.join(SHOTS, "Playground-clicks.png"), full_page=True)
        page.get_by_role("button", name="Clear my points").click()
        wait_for_trace(page, 0, "t.name === 'the 10 points it sees'")
        page.close()


def test_playground_classification_labelled_clicks(chromium, tmp_path):
    with server(tmp_path / "runs") as (url, _):
        page = open_chart_page(chromium, url, "Playground", 1400)
        page.get_by_label("Task family").click()
        page.get_by_role("option", name="2D point classes").click()
        page.get_by_text("class 2", exact=True).wait_for(timeout=30_000)
        wait_idle(page)
        page.get_by_text("class 2", exact=True).click()
        wait_idle(page)
        for chart in (0, 1):                      # decision regions before and after
            wait_for_trace(page, chart, "t.type === 'heatmap'")
        _click_plot(page, 1, 0.5, 0.5)
        wait_for_trace(page, 1, "t.name === 'labelled examples' && t.x.length === 6 "
                                "&& t.text[5] === 'class 2'")
        wait_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=os.path.join(SHOTS, "Playground-blobs.png"), full_page=True)
        page.close()


def test_handwriting_step_slider_changes_guesses_in_the_browser_without_a_rerun(chromium, tmp_path):
    with server(tmp_path / "runs") as (url, _):
        for w, h in ((1400, 900), (390, 844)):
            page = chromium.new_page(viewport={"width": w, "height": h})
            page.goto(f"{url}/Handwriting")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
            wait_idle(page)
            page.screenshot(path=os.path.join(SHOTS, f"Handwriting-{w}.png"))
            assert page.locator('[data-testid="stException"]').count() == 0
            # watch for any server rerun from now on
            page.evaluate("""() => { window.__reruns = 0;
                const app = document.querySelector('[data-testid="stApp"]');
                new MutationObserver(() => { if (app.getAttribute('data-test-script-state')
                    === 'running') window.__reruns++; }).observe(app, {attributes: true}); }""")
            texts = lambda: page.evaluate("""() => { const p = document.querySelectorAll(
                '.js-plotly-plot')[0]; const t = p._fullData.find(d => (d.name || '')
                .startsWith('guesses')); return [t.name, Array.from(t.text)]; }""")
            name0, before = texts()
            assert name0 == "guesses after 0 steps"
            chart = page.locator(".js-plotly-plot").first
            chart.scroll_into_view_if_needed()
            rail = chart.locator(".slider-rail-rect").first
            box = rail.bounding_box()
            page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
            page.wait_for_function("""() => { const p = document.querySelectorAll(
                '.js-plotly-plot')[0]; return p._fullData.some(d => d.name ===
                'guesses after 5 steps'); }""", timeout=10_000)
            name1, after = texts()
            assert after != before and len(after) == len(before) == 15
            assert page.evaluate("window.__reruns") == 0, "the step slider reran the script"
            page.screenshot(path=os.path.join(SHOTS, f"Handwriting-{w}-step5.png"))
            page.close()


def test_handwriting_canvas_takes_strokes_and_classifies_the_drawing(chromium, tmp_path):
    with server(tmp_path / "runs") as (url, _):
        page = chromium.new_page(viewport={"width": 1400, "height": 2600})
        page.goto(f"{url}/Handwriting")
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
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=os.path.join(SHOTS, "Handwriting-drawing.png"), full_page=True)
        page.get_by_role("button", name="Clear my drawing").click()
        page.wait_for_function(f"() => ({strokes})() === 0", timeout=30_000)
        page.close()
