"""Dashboard latency (issue 10's "done means"), printed as a table:

1. Step slider, in headless Chromium: the time from the mouse press on a step of Compare's
   one-task chart's slider (computed in the page) to the first painted frame after the plotted
   MAML curve changed, over >= 12 moves, and the number of websocket messages the page sent to
   the server meanwhile (the target: none). The Playground computes in the browser: K, α, steps, the step, New task, a click, a
   drag and a tap, from the input event to the repainted chart (benchmarks/playground_latency.py).
2. Other widget changes, server-side: the page script's re-run (AppTest, in-process: script,
   engine, figures, serialisation; no browser) when a widget moves, median over several moves.
3. The first page (Learn) of a fresh `streamlit run app.py`, counted from the server's first
   answer to a health check: the first screen ready (script done, no element still loading,
   §1's picture shown) and every chart drawn (those below the first screen while idle).
4. Navigation and Handwriting in headless Chromium, from the input (the pointer pressed, or for
   a pen stroke released) to the first painted frame after the chart's data changed: Random
   goal, a click on the plane (the star, moved in the browser, and the new rollouts, computed
   by the server), the first Oracle on a fresh server, Other drawings, the ink of a pen stroke
   under the pointer and the guesses for the drawing after the stroke ends. Between inputs the
   benchmark waits as a person would (the app idle, then 1.5 s).
5. Compare in Chromium, as a person feels it: "Another task" (computed in the page) and K ± to
   a K not evaluated before (the one-task chart, and the averaged chart's first estimate: the
   full evaluation then runs in the background), each from the mouse press to the first painted
   frame with the chart's new data ("repaint") and to the app idle again ("idle"), median and
   worst over several presses, with the machine's load.

Run:  python benchmarks/app_latency.py [--moves 15] [--skip-first-page]
      [--only nav-hw|compare|first-page]
Needs Debian's chromium (see README). The machine's load average is printed: on a shared
2-core machine the absolute numbers move with it.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

MAML_CURVE = "t.name === 'MAML' && t.mode === 'lines'"


def scrub_latency(browser_, url, path, trace_js, moves):
    """Compare's step slider (the one-task chart's own, in the page): from the mouse press on a
    step of the slider to the first painted frame with the MAML curve of that step."""
    from browser import count_sent, wait_idle
    page = browser_.new_page(viewport={"width": 1400, "height": 1000})
    sent = count_sent(page)
    page.goto(f"{url}/{path}")
    page.wait_for_selector('[data-maviz-cmp][data-drawn="1"]', timeout=120_000)
    wait_idle(page)
    page.wait_for_timeout(1000)
    page.evaluate(WATCH, [["step", TASK_CHART, trace_js]])
    rng = page.locator("[data-maviz-cmp] [data-step]")
    rng.scroll_into_view_if_needed()
    box = rng.bounding_box()
    before = len(sent)
    for i in range(moves):
        f = [0.2, 0.7, 0.4, 0.9, 0.05, 0.5, 0.95, 0.3, 0.8, 0.1, 0.6][i % 11]
        page.mouse.click(box["x"] + 8 + f * (box["width"] - 16), box["y"] + box["height"] / 2)
        page.wait_for_function("(n) => window.__m.step.length > n", arg=i, timeout=60_000)
        page.wait_for_timeout(150)
    page.wait_for_timeout(500)
    messages = len(sent) - before
    times = [a for a, _ in page.evaluate("() => window.__m.step")]
    page.close()
    return times, messages


def server_side(page, changes, repeat=6):
    """{label: [seconds]} for each (label, how-to-change(at, i)) run repeatedly."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=300)
    at.switch_page(page)
    at.run()
    out = {}
    for label, change in changes:
        ts = []
        for i in range(repeat):
            change(at, i)
            t0 = time.perf_counter()
            at.run()
            ts.append(time.perf_counter() - t0)
            assert not at.exception, [e.value for e in at.exception]
        out[label] = ts
    return out


def tick(at, keys):
    """Tick these runs in Compare's run table (AppTest)."""
    table = next(d for d in at.dataframe if (d.key or "").startswith("cmp_pick_"))
    rows = [list(table.value["key"]).index(k) for k in keys]
    at.session_state[table.key] = {"selection": {"rows": rows, "columns": [], "cells": []}}


WATCH = """(watchers) => {
  // from the next mousedown: for each watcher [name, chart (a JS expression), pick], the first
  // painted frame after the picked trace of that chart changed (repaint), then the first frame
  // with the app idle again and the page's one-task chart drawn (idle)
  window.__m = {};
  const idle = () => !!document.querySelector(
      '[data-testid="stApp"][data-test-script-state="notRunning"]') &&
    !document.querySelector('[data-maviz-cmp][data-drawn="0"]');
  for (const [name, chartJs, pick] of watchers) {
    const chart = new Function('return ' + chartJs), want = new Function('t', 'return ' + pick);
    const sig = () => { const gd = chart(); const t = ((gd && gd._fullData) || []).find(want);
                        return t ? Array.from(t.y || []).slice(0, 60).join(',') : ''; };
    const m = window.__m[name] = [];
    let t0 = null, last = null, rep = null;
    window.addEventListener('mousedown', () => { t0 = performance.now(); last = sig(); rep = null; },
                            true);
    const loop = () => {
      if (t0 !== null) {
        const now = performance.now();
        if (rep === null && sig() !== last) rep = now;
        if (rep !== null && idle()) { m.push([rep - t0, now - t0]); t0 = null; }
      }
      requestAnimationFrame(loop);
    };
    loop();
  }
}"""
TASK_CHART = "document.querySelector('[data-maviz-cmp] [data-panel=\"curve\"]')"
AVERAGED = "document.querySelector('.st-key-cmp_curves .js-plotly-plot')"   # drawn by the page


def compare_browser(browser_, url, presses=8):
    """[(label, repaint ms list, idle ms list)] for Compare's Another task (the one-task chart,
    computed in the page) and K ± to a K not evaluated before (the one-task chart, handed the new
    K by the server, and the averaged chart: drawn by the page from the chart computed ahead
    where the page holds it, else handed over by the server), the K presses at two paces: 300 ms
    after the app is idle again (quick presses), and 1.5 s after (a person looking at the chart).
    The averaged chart's label says in how many presses the page drew it itself."""
    from browser import wait_idle

    def ready():
        page.wait_for_selector('[data-maviz-cmp][data-drawn="1"]', timeout=600_000)
        page.wait_for_function(f"() => !!{AVERAGED}", timeout=600_000)
        wait_idle(page, 600_000)
        page.wait_for_timeout(1000)

    page = browser_.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/Compare", timeout=600_000)
    ready()
    out = []
    maml = "t.name === 'MAML' && t.mode === 'lines'"
    averaged = "t.name === 'MAML' && t.mode === 'lines+markers'"
    step_up = lambda: page.locator('[data-testid="stNumberInputStepUp"]').first
    for watchers, target, pause, pace in (
            ([("Compare: another task (computed in the page)", TASK_CHART, maml)],
             lambda: page.get_by_role("button", name="Another task"), 300, ""),
            ([("Compare: K ± (a K not evaluated before): the one-task chart", TASK_CHART, maml),
              ("Compare: K ± (a K not evaluated before): the averaged chart", AVERAGED, averaged)],
             step_up, 300, ", quick presses"),
            ([("Compare: K ± (a K not evaluated before): the one-task chart", TASK_CHART, maml),
              ("Compare: K ± (a K not evaluated before): the averaged chart", AVERAGED, averaged)],
             step_up, 1500, ", a person's pace")):
        page.evaluate(WATCH, watchers)
        logged = page.evaluate("() => (window.__mavizAvg || {log: []}).log.length")
        for n in range(presses):
            target().click()
            page.wait_for_function("(n) => Object.values(window.__m).every(m => m.length > n)",
                                   arg=n, timeout=600_000)
            page.wait_for_timeout(pause)
        m = page.evaluate("() => window.__m")
        log = page.evaluate(f"() => (window.__mavizAvg || {{log: []}}).log.slice({logged})")
        in_page = sum(e["from"] == "page" for e in log)
        for name, _, _ in watchers:
            extra = f" (drawn by the page in {in_page} of {presses})" if "averaged" in name else ""
            out.append((name + pace + extra, [a for a, _ in m[name]], [b for _, b in m[name]]))
        page.reload()
        ready()
    page.close()
    return out


FIRST_SCREEN = """window.__fp = {ev: []}; new MutationObserver(() => {
  const plots = document.querySelectorAll('[data-maviz-lazy] .main-svg, .js-plotly-plot .main-svg');
  const app = document.querySelector('[data-testid=stApp]');
  const k = [app && app.getAttribute('data-test-script-state'),
             document.querySelectorAll('[data-testid=stSkeleton]').length,
             !!document.querySelector('.st-key-gallery-wide svg'), plots.length].join('/');
  if (k !== window.__fp.last) { window.__fp.last = k; window.__fp.ev.push([performance.now(), k]); }
}).observe(document, {subtree: true, childList: true, attributes: true});"""


def first_page(n=3):
    """Seconds from a fresh server's first answer to a health check to (first screen) the Learn
    page's script done, no element still loading and §1's picture shown, and to (every chart)
    the last chart drawn (those below the first screen are drawn while the page is idle)."""
    from browser import browser, server, wait_idle
    out = []
    with browser() as b:
        for _ in range(n):
            with tempfile.TemporaryDirectory() as d, server(d) as (url, _):
                t0 = time.time()                             # the server has just answered
                page = b.new_page(viewport={"width": 1400, "height": 1000})
                page.add_init_script(FIRST_SCREEN)
                page.goto(url)
                page.get_by_role("heading", name="Learning to learn").wait_for(timeout=60_000)
                page.wait_for_selector("[data-maviz-lazy] .main-svg", timeout=60_000)
                wait_idle(page)
                page.wait_for_timeout(3000)                  # the charts drawn while idle
                origin = page.evaluate("performance.timeOrigin") / 1e3
                ev = page.evaluate("window.__fp.ev")
                first = next(t for t, k in ev if k.startswith("notRunning/0/true"))
                out.append((origin + first / 1e3 - t0, origin + ev[-1][0] / 1e3 - t0))
                page.close()
    return out


# ----------------------------------------------------------------------------- Navigation, Handwriting
PLANE = """Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(g => g._fullData && g._fullData.some(t => t.name === 'goal'))"""
NAV_PATHS = f"""(() => {{ const g = {PLANE}; const t = g && g._fullData.find(
    t => / after adapting$| \\(never adapts\\)$/.test(t.name || ''));
    return t ? t.name + Array.from(t.x || []).slice(0, 40).join(',') : ''; }})()"""
NAV_DONE = """(() => { const r = document.querySelector('[data-maviz-nav]');   // the whole chart:
    if (r && r.dataset.drawn === '1') window.__navDone = r.dataset.want;    // every step, both
    return window.__navDone || ''; })()"""                                  # runs, the story
NAV_GOAL = f"""(() => {{ const g = {PLANE}; const t = g && g._fullData.find(t => t.name === 'goal');
    return t ? t.x[0] + ',' + t.y[0] : ''; }})()"""
HW_GRID = """(() => { const g = document.querySelector('[data-maviz-hw] .js-plotly-plot');
    const t = g && g._fullData && g._fullData.find(t => t.type === 'heatmap');
    return t ? Array.from(t.z[60] || []).join(',') + Array.from(t.z[100] || []).join(',') : ''; })()"""
HW_YOURS = """(() => { const g = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
    g => g.layout && g.layout.title && String(g.layout.title.text).includes('Your drawing'));
    return g && g._fullData ? g._fullData.map(t => Array.from(t.y).join(',')).join('|') : ''; })()"""


def watch(page, sigs: dict, start="pointerdown"):
    """Time, from each `start` event, the first painted frame after each signature (a JS
    expression) changed: window.__t[name] collects milliseconds."""
    page.evaluate("""([sigs, start]) => {
      window.__t = {}; const now = {}, t0 = {};
      const read = (k) => { try { return String(eval(sigs[k])); } catch (e) { return ''; } };
      for (const k in sigs) { window.__t[k] = []; now[k] = read(k); }
      window.addEventListener(start, () => { for (const k in sigs) { t0[k] = performance.now();
                                                                      now[k] = read(k); } }, true);
      const loop = () => {
        for (const k in sigs) if (t0[k] !== undefined && read(k) !== now[k]) {
          const t = t0[k]; delete t0[k]; now[k] = read(k);
          requestAnimationFrame(() => window.__t[k].push(performance.now() - t));
        }
        requestAnimationFrame(loop);
      };
      loop(); }""", [sigs, start])


def timed(page, name, action, timeout=120_000):
    n = page.evaluate(f"() => window.__t['{name}'].length")
    action()
    page.wait_for_function(f"() => window.__t['{name}'].length > {n}", timeout=timeout)
    return page.evaluate(f"() => window.__t['{name}'][{n}]")


def settle(page):
    from browser import wait_idle
    wait_idle(page)
    page.wait_for_timeout(1500)                 # a person's pace: the next one is computed ahead


def nav_hw(b, url, n):
    """{label: [ms]} for the Navigation and Handwriting interactions."""
    import random
    from browser import wait_idle
    out = {}
    page = b.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/Navigation")
    page.wait_for_function(f"() => !!{PLANE}", timeout=180_000)
    settle(page)
    watch(page, {"paths": NAV_PATHS, "goal": NAV_GOAL, "done": NAV_DONE})
    button = page.get_by_role("button", name="Random goal")
    out["Navigation: Random goal"] = []
    for _ in range(n):
        out["Navigation: Random goal"].append(timed(page, "paths", button.click))
        settle(page)
    rng = random.Random(0)
    star, paths, whole = [], [], []
    for _ in range(n):
        box = page.evaluate(f"""() => {{ const g = {PLANE}, L = g._fullLayout,
            r = g.getBoundingClientRect(); return [r.left + L.xaxis._offset, r.top + L.yaxis._offset,
            L.xaxis._length, L.yaxis._length]; }}""")
        x, y = box[0] + rng.uniform(0.1, 0.9) * box[2], box[1] + rng.uniform(0.1, 0.9) * box[3]
        k = page.evaluate("() => window.__t['goal'].length")
        w = page.evaluate("() => window.__t['done'].length")
        paths.append(timed(page, "paths", lambda: page.mouse.click(x, y)))
        page.wait_for_function(f"() => window.__t['goal'].length > {k}", timeout=60_000)
        star.append(page.evaluate(f"() => window.__t['goal'][{k}]"))
        page.wait_for_function(f"() => window.__t['done'].length > {w}", timeout=60_000)
        whole.append(page.evaluate(f"() => window.__t['done'][{w}]"))
        settle(page)
    out["Navigation: a click on the plane, the star moved"] = star
    out["Navigation: a click on the plane, the new rollouts drawn"] = paths
    out["Navigation: a click on the plane, every step of both runs and the story"] = whole
    page.close()

    page = b.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/Handwriting")
    page.wait_for_selector('[data-maviz-pad][data-ready="1"]', timeout=180_000)
    settle(page)
    watch(page, {"grid": HW_GRID})
    button = page.get_by_role("button", name="Other drawings")
    log = "() => (window.__mavizHw || {log: []}).log"
    for pace, pause in (("a person's pace", None), ("quick presses", 300)):
        seen, ms = len(page.evaluate(log)), []
        for _ in range(n):
            ms.append(timed(page, "grid", button.click))
            if pause is None:
                settle(page)
            else:
                wait_idle(page)
                page.wait_for_timeout(pause)
        drawn = sum(e["from"] == "page" for e in page.evaluate(log)[seen:])
        out[f"Handwriting: Other drawings, {pace} (drawn by the page in {drawn} of {n})"] = ms
    pad = page.locator("[data-maviz-pad] canvas")
    pad.scroll_into_view_if_needed()
    page.evaluate("""() => { const cv = document.querySelector('[data-maviz-pad] canvas'),
        ctx = cv.getContext('2d'); window.__ink = [];
        cv.addEventListener('pointermove', (ev) => { if (!(ev.buttons & 1)) return;
          const t0 = ev.timeStamp, r = cv.getBoundingClientRect(), k = cv.width / r.width;
          const x = Math.round((ev.clientX - r.left) * k), y = Math.round((ev.clientY - r.top) * k);
          requestAnimationFrame((t) => { const d = ctx.getImageData(x, y, 1, 1).data;
            window.__ink.push(d[3] > 128 ? performance.now() - t0 : -1); }); }); }""")
    watch(page, {"yours": HW_YOURS}, start="pointerup")
    out["Handwriting: a stroke's guesses, from the pen lifted"] = []
    for i in range(n):
        box = pad.bounding_box()
        at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        y0 = 0.1 + 0.8 * i / max(1, n - 1)
        page.mouse.move(*at(0.15, y0))
        page.mouse.down()
        page.mouse.move(*at(0.85, min(0.95, y0 + 0.05)), steps=8)
        out["Handwriting: a stroke's guesses, from the pen lifted"].append(
            timed(page, "yours", page.mouse.up))
        settle(page)
    ink = page.evaluate("() => window.__ink")
    out["Handwriting: a stroke's ink under the pen (ms per move; -1 = missing)"] = ink
    page.close()
    return out


def first_oracle(b, runs_dir):
    from browser import server
    with server(runs_dir) as (url, _):
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/Navigation")
        page.wait_for_function(f"() => !!{PLANE}", timeout=180_000)
        settle(page)
        watch(page, {"paths": NAV_PATHS})
        page.get_by_role("combobox", name="Algorithm").click()
        option = page.get_by_role("option", name="Oracle")
        ms = timed(page, "paths", option.click)
        page.close()
    return [ms]


def row(label, ms, extra=""):
    return (f"| {label} | {statistics.median(ms):.0f} | {min(ms):.0f} | {max(ms):.0f} | "
            f"{len(ms)} | {extra} |")


def first_oracle_and_nav_hw(b, runs_dir, n):
    from browser import server
    out = {"Navigation: the first Oracle (fresh server)": first_oracle(b, runs_dir)}
    with server(runs_dir) as (url, _):
        out.update(nav_hw(b, url, n))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=15)
    ap.add_argument("--skip-first-page", action="store_true")
    ap.add_argument("--only", choices=["nav-hw", "compare", "first-page"],
                    help="only the Navigation and Handwriting part, only Compare in Chromium, or "
                         "only the first page on fresh servers")
    ap.add_argument("--repeats", type=int, default=7, help="inputs of each kind (part 4)")
    args = ap.parse_args()
    os.environ.setdefault("MAML_VIZ_RUNS", tempfile.mkdtemp())
    from browser import browser, server

    from maml_viz.engine.registry import make_config

    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)\n")
    if args.only == "first-page":
        t = first_page(5)
        print("| interaction | median ms | best | worst | n | |\n|---|---|---|---|---|---|")
        print(row("First page (Learn) on a fresh server: first screen ready", [a * 1e3 for a, _ in t]))
        print(row("First page (Learn) on a fresh server: every chart drawn", [b * 1e3 for _, b in t]))
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
        return
    if args.only in (None, "compare"):  # Compare in Chromium first (a fresh server: no K evaluated)
        with tempfile.TemporaryDirectory() as d, server(d) as (url, _), browser() as b:
            print("| Compare, in Chromium | repaint median ms | worst | app idle median ms | "
                  "worst | n |")
            print("|---|---|---|---|---|---|")
            for label, rep, idle in compare_browser(b, url):
                print(f"| {label} | {statistics.median(rep):.0f} | {max(rep):.0f} | "
                      f"{statistics.median(idle):.0f} | {max(idle):.0f} | {len(rep)} |", flush=True)
            print(f"\nload average after Compare: {os.getloadavg()[0]:.1f}\n")
        if args.only == "compare":
            return
    print("| measure | median ms | min | max | n | messages to the server |")
    print("|---|---|---|---|---|---|")
    if args.only == "nav-hw":
        with tempfile.TemporaryDirectory() as d, browser() as b:
            for label, ms in first_oracle_and_nav_hw(b, d, args.repeats).items():
                print(row(label, ms), flush=True)
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
        return
    with tempfile.TemporaryDirectory() as d, server(d) as (url, _), browser() as b:
        for label, path, trace in (("Compare step slider (browser repaint)", "Compare", MAML_CURVE),):
            ms, messages = scrub_latency(b, url, path, trace, args.moves)
            print(row(label, ms, f"{messages} in {len(ms)} moves"), flush=True)
        from playground_latency import measure
        for label, ms, cpu, messages in measure(b, url, max(5, args.moves // 2)):
            print(row(label + " (browser)", ms, f"{messages} in {len(ms)}; main-thread CPU "
                      f"{statistics.median(cpu):.0f} ms"), flush=True)

    sine = {a: make_config(family="sinusoid", algo=a).key() for a in ("maml", "reptile", "fomaml")}
    pg = server_side("pages/1_Playground.py", [        # (K, α, the task: in the browser)
        ("algorithm", lambda at, i: at.selectbox(key="pg_algo").set_value(["reptile", "maml"][i % 2])),
    ])
    for k, ts in pg.items():
        print(row(f"Playground: {k} (server-side re-run)", [t * 1e3 for t in ts[1:]],
                  "first change " f"{ts[0] * 1e3:.0f} ms"), flush=True)
    runs = list(sine.values())
    # (K is timed in the browser, §5: its rerun redraws a few elements only, and AppTest's tree
    # then holds only those)
    cmp = server_side("pages/3_Compare.py", [("runs", lambda at, i: tick(at, runs[: 2 + i % 2]))])
    for k, ts in cmp.items():
        print(row(f"Compare: {k} (server-side re-run)", [t * 1e3 for t in ts[1:]],
                  "first change " f"{ts[0] * 1e3:.0f} ms"), flush=True)
    nav = server_side("pages/4_Navigation.py", [     # (Random goal: in the page, §4)
        ("algorithm", lambda at, i: at.selectbox(key="nav_algo").set_value(["fomaml", "maml"][i % 2])),
    ])
    for k, ts in nav.items():
        print(row(f"Navigation: {k} (server-side re-run)", [t * 1e3 for t in ts[1:]],
                  "first change " f"{ts[0] * 1e3:.0f} ms"), flush=True)
    with tempfile.TemporaryDirectory() as d, browser() as b:
        for label, ms in first_oracle_and_nav_hw(b, d, args.repeats).items():
            print(row(label, ms), flush=True)
    if not args.skip_first_page:
        t = first_page()
        print(row("First page (Learn) on a fresh server: first screen ready", [a * 1e3 for a, _ in t]))
        print(row("First page (Learn) on a fresh server: every chart drawn", [b * 1e3 for _, b in t]))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
