"""Real browser (Chromium), Compare and Train as a person uses them:

- Compare: a new K shows a first estimate at once with the progress line at the top of the page
  (in view), then the full evaluation replaces it; a family change draws that family's default
  runs; K ± redraws the averaged chart in the page from the chart computed ahead, the chart the
  server then hands over;
- Train: a person's jobs stay theirs in another tab of the same browser (a token the browser
  keeps: a cookie for this site), and read-only in another browser (a second context).

Waits are on conditions, with deadlines that only bound a hang (the machine may be busy).
"""
from browser import count_sent, server, wait_idle

LONG = 600_000          # ms: only bounds a hang
# the averaged chart (drawn by the page) and the server's Plotly charts (not the one-task chart's
# panels, nor the hidden loader chart)
PLOTS = """[document.querySelector('.st-key-cmp_curves .js-plotly-plot')].filter(g => g).concat(
    Array.from(document.querySelectorAll('.stPlotlyChart .js-plotly-plot'))
    .filter(g => !g.closest('.st-key-maviz_plotly_loader')))"""
CAPTIONS = """Array.from(document.querySelectorAll(
    '[data-testid="stCaptionContainer"], [data-maviz-avg] [data-caption]')).map(c => c.innerText)"""


def no_exception(page):
    assert page.locator('[data-testid="stException"]').count() == 0


def caption_texts(page):
    return page.evaluate(f"() => {CAPTIONS}")


def test_compare_new_k_first_estimate_progress_at_the_top_then_the_full_one(chromium, tmp_path):
    with server(tmp_path / "runs") as (url, _):
        page = chromium.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/Compare", timeout=LONG)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=LONG)
        wait_idle(page, LONG)
        assert any("adapts to 1000 new held-out tasks with K = 10" in c for c in caption_texts(page))
        box = page.get_by_role("spinbutton", name="Examples per task (K)")
        box.fill("13")
        box.press("Enter")
        # at once: the first estimate, and the progress line at the top of the page, in view
        page.get_by_text("first estimate on 20 tasks until then").wait_for(timeout=LONG)
        bar = page.locator('[data-testid="stProgress"]').first.bounding_box()
        assert bar is not None and bar["y"] < 300, bar
        page.wait_for_function(f"""() => {CAPTIONS}.some(c => c.includes(
            'adapts to 20 new held-out tasks with K = 13'))""", timeout=LONG)
        # then the full evaluation replaces it, and the progress line goes
        page.wait_for_function(f"""() => {CAPTIONS}.some(c => c.includes(
            'adapts to 500 new held-out tasks with K = 13'))""", timeout=LONG)
        wait_idle(page, LONG)
        assert page.locator('[data-testid="stProgress"]').count() == 0
        assert not any("First estimate" in c for c in caption_texts(page))
        no_exception(page)
        # a family change draws that family's default runs
        page.get_by_role("combobox", name="Task family").click()
        page.get_by_role("option", name="2D point classes").click()
        page.get_by_text("right (").first.wait_for(timeout=LONG)   # the maps' titles
        wait_idle(page, LONG)
        assert page.get_by_text("Tick at least two runs").count() == 0
        names = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
            .map(g => g._fullData.filter(t => t.mode === 'lines+markers').map(t => t.name))
            .filter(n => n.length)[0]""")
        assert names == ["MAML", "FOMAML", "Reptile", "Pretrained", "Random init"], names
        no_exception(page)
        page.close()


def test_compare_controls_redraw_only_the_charts_they_change(chromium, tmp_path):
    """The one-task chart is computed in the page: Another task and the step slider repaint it
    with no message to the server (the URL keeps the task and step), and its curves are the
    engine's for the new task; the number of steps and K rerun the averages and touch neither
    training chart (fragments: the others are not sent again), and the one-task chart follows
    them from the page's own widgets: its runs' weights (250 kB) are not sent again, and the
    URL still follows."""
    import numpy as np
    from compare_engine import maml_curve
    keep = f"() => {{ window.__keep = {PLOTS}.map(g => g._fullData); }}"
    same = f"() => {PLOTS}.map((g, i) => g._fullData === window.__keep[i])"
    head = "() => document.querySelector('[data-maviz-cmp] [data-head]').textContent"
    curve = """() => { const g = document.querySelector('[data-maviz-cmp] [data-panel="curve"]');
        return Array.from(g._fullData.find(t => t.name === 'MAML').y); }"""
    with server(tmp_path / "runs") as (url, _):
        page = chromium.new_page(viewport={"width": 1400, "height": 900})
        sent, got = count_sent(page), []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda p: got.append(len(p))))
        page.goto(f"{url}/Compare", timeout=LONG)
        page.wait_for_selector('[data-maviz-cmp][data-drawn="1"]', timeout=LONG)
        page.wait_for_function(f"() => {PLOTS}.length >= 3", timeout=LONG)
        assert max(got) > 200_000                          # the runs' weights, once
        held = """(k) => { const g = document.querySelector('[data-maviz-avg]'),
            m = g && window.__mavizAvg.sets.get(g.dataset.sig);
            return m && m.has(k) ? m.get(k).id : null; }"""
        # the page polls while the averaged charts at K ± 1, ± 2 and ± 3 are computed ahead: once
        # it holds them all, nothing more goes to the server until a control is used
        page.wait_for_function(f"() => [8, 9, 11, 12].every(k => ({held})(k) !== null)",
                               timeout=LONG)
        wait_idle(page, LONG)
        page.wait_for_timeout(1000)
        wait_idle(page, LONG)
        page.evaluate(keep)
        before, n = page.evaluate(head), len(sent)
        page.get_by_role("button", name="Another task").click()
        page.wait_for_function(f"() => ({head})() !== {before!r}", timeout=LONG)
        page.wait_for_selector('[data-maviz-cmp][data-drawn="1"][data-url="1"]', timeout=LONG)
        page.locator("[data-maviz-cmp] [data-step]").fill("3")
        page.wait_for_selector('[data-maviz-cmp][data-drawn="1"][data-url="1"]', timeout=LONG)
        page.wait_for_timeout(300)
        assert len(sent) == n, "the page asked the server"
        assert "task=1" in page.url and "step=3" in page.url
        assert all(page.evaluate(same)), "a server chart was redrawn"
        assert np.allclose(page.evaluate(curve), maml_curve(task=1, k=10, step=3), atol=1e-4)
        # the number of steps: the task chart (its slider now ends at 9) and the averages
        m = len(got)
        page.locator('[data-testid="stNumberInputStepDown"]').nth(1).click()    # steps 10 -> 9
        page.wait_for_function("() => document.querySelector('[data-maviz-cmp] [data-step]').max"
                               " === '9'", timeout=LONG)
        page.wait_for_function(f"() => {PLOTS}[0]._fullData !== window.__keep[0]", timeout=LONG)
        wait_idle(page, LONG)
        assert page.evaluate(same)[:3] == [False, True, True]
        page.wait_for_timeout(700)        # (a rerun may write the URL: the page puts it back)
        assert "task=1" in page.url                        # the task stays the one shown
        assert np.allclose(page.evaluate(curve), maml_curve(task=1, k=10, step=3), atol=1e-4)
        # K: the one-task chart follows the page's widget (drawn in the page, then handed over
        # again), and so does the averaged chart, from the chart at K = 11 computed ahead and
        # handed to the page (by the poll) before the press: drawn before the server answers
        page.wait_for_function(f"() => ({held})(11) !== null", timeout=LONG)
        page.locator('[data-testid="stNumberInputStepUp"]').first.click()       # K 10 -> 11
        page.wait_for_function("() => document.querySelector('[data-maviz-cmp]').__cmp.sup.n "
                               "=== 11", timeout=LONG)
        wait_idle(page, LONG)
        page.wait_for_selector('[data-maviz-cmp][data-drawn="1"]', timeout=LONG)
        assert np.allclose(page.evaluate(curve), maml_curve(task=1, k=11, step=3), atol=1e-4)
        log = page.evaluate("() => window.__mavizAvg.log")
        drawn = [e for e in log if e["k"] == 11]
        assert drawn and drawn[0]["from"] == "page", log
        # the server's chart at K = 11 is the one the page drew (the same id: no redraw), unless
        # the full evaluation ended meanwhile (then the server's chart is drawn after it)
        assert page.evaluate(f"() => ({held})(11)") == drawn[0]["id"] or drawn[-1]["from"] == "server"
        assert page.evaluate("() => document.querySelector('[data-maviz-avg]').dataset.k") == "11"
        assert "with K = 11 examples" in page.evaluate(
            "() => document.querySelector('[data-maviz-avg] [data-caption]').textContent")
        # (the runs' weights come in one 250 kB frame; the averaged chart's, with its script and
        # the charts ahead, about 50 kB)
        assert max(got[m:]) < 100_000, "the one-task chart's payloads were sent again"
        assert "k=11" in page.url and "steps=9" in page.url
        no_exception(page)
        page.close()


def _job_lines(page):
    return page.locator('[data-testid="stProgress"]').all_inner_texts()


def test_train_jobs_stay_theirs_in_another_tab_and_read_only_elsewhere(chromium, tmp_path):
    with server(tmp_path / "runs") as (url, _):
        mine = chromium.new_context(viewport={"width": 1400, "height": 900})
        other = chromium.new_context(viewport={"width": 1400, "height": 900})
        try:
            tab1 = mine.new_page()
            tab1.goto(f"{url}/Train", timeout=LONG)
            tab1.get_by_role("heading", name="Train").first.wait_for(timeout=LONG)
            wait_idle(tab1, LONG)
            tab1.get_by_role("spinbutton", name="Meta-iterations").fill("30000")
            tab1.get_by_role("spinbutton", name="Seed", exact=True).fill("5")
            tab1.get_by_role("button", name="Start training").click()
            tab1.get_by_text("· yours").first.wait_for(timeout=LONG)
            token = [c for c in mine.cookies() if c["name"] == "maml_viz_owner"]
            assert len(token) == 1 and "maml_viz_owner" not in tab1.url     # not in links
            # another tab of the same browser: the job is still this person's, Stop included
            tab2 = mine.new_page()
            tab2.goto(f"{url}/Train", timeout=LONG)
            tab2.get_by_text("Trainings (everyone's)").wait_for(timeout=LONG)
            tab2.get_by_text("· yours").first.wait_for(timeout=LONG)
            assert tab2.get_by_role("button", name="Stop").count() + \
                tab2.get_by_role("button", name="Cancel").count() == 1
            # another browser: read-only
            tab3 = other.new_page()
            tab3.goto(f"{url}/Train", timeout=LONG)
            tab3.get_by_text("another user's (read-only)").first.wait_for(timeout=LONG)
            wait_idle(tab3, LONG)
            assert not any("yours" in t for t in _job_lines(tab3))
            assert tab3.get_by_role("button", name="Stop").count() == 0
            assert tab3.get_by_role("button", name="Cancel").count() == 0
            # and the owner's second tab can stop it
            # the job list re-renders while the job runs, so the button may never hold still
            # for Playwright's stability check on a busy machine: press it from the page itself
            tab2.wait_for_function(
                """() => { const b = [...document.querySelectorAll('button')].find(
                               b => ['Stop', 'Cancel'].includes(b.innerText.trim()));
                           if (b) b.click(); return !!b; }""", timeout=LONG)
            tab2.get_by_text("seed 5): stopped").or_(tab2.get_by_text("seed 5): cancelled")) \
                .first.wait_for(timeout=LONG)
            no_exception(tab2)
        finally:
            mine.close()
            other.close()
