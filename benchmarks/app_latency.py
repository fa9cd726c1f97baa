"""Dashboard latency (issue 10's "done means"), printed as a table:

1. Step slider, in headless Chromium: the time from the mouse press on a step of the chart's own
   slider to the first painted frame after the plotted curve changed, over >= 12 moves, and the
   number of websocket messages the page sent to the server meanwhile (the target: none). For
   Compare. The Playground computes in the browser: K, α, steps, the step, New task, a click, a
   drag and a tap, from the input event to the repainted chart (benchmarks/playground_latency.py).
2. Other widget changes, server-side: the page script's re-run (AppTest, in-process: script,
   engine, figures, serialisation; no browser) when a widget moves, median over several moves.
3. The first page ready after `streamlit run app.py` (heading, charts drawn, script idle).

Run:  python benchmarks/app_latency.py [--moves 15] [--skip-first-page]
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

MAML_CURVE = "t.name === 'MAML' && t.xaxis === 'x'"


def scrub_latency(browser_, url, path, trace_js, moves):
    from browser import count_sent, scrub, slider_ticks, wait_idle, watch_trace
    page = browser_.new_page(viewport={"width": 1400, "height": 1000})
    sent = count_sent(page)
    page.goto(f"{url}/{path}")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
    wait_idle(page)
    page.wait_for_timeout(1000)
    watch_trace(page, 0, trace_js)
    n_steps = len(slider_ticks(page, 0))
    before = len(sent)
    times = []
    for i in range(moves):
        step = [2, 7, 4, 9, 0, 5, 10, 3, 8, 1, 6][i % 11] % n_steps
        if i and step == prev:
            step = (step + 1) % n_steps
        times.append(scrub(page, 0, step))
        prev = step
        page.wait_for_timeout(150)
    page.wait_for_timeout(500)
    messages = len(sent) - before
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


def first_page(n=3):
    from browser import browser, server, wait_idle
    out = []
    with browser() as b:
        for _ in range(n):
            with tempfile.TemporaryDirectory() as d, server(d) as (url, t0):
                page = b.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.get_by_role("heading", name="Learning to learn").wait_for(timeout=60_000)
                page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
                wait_idle(page)
                out.append(time.time() - t0)
                page.close()
    return out


def row(label, ms, extra=""):
    return (f"| {label} | {statistics.median(ms):.0f} | {min(ms):.0f} | {max(ms):.0f} | "
            f"{len(ms)} | {extra} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=15)
    ap.add_argument("--skip-first-page", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("MAML_VIZ_RUNS", tempfile.mkdtemp())
    from browser import browser, server

    from maml_viz.engine.registry import make_config

    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)\n")
    print("| measure | median ms | min | max | n | messages to the server |")
    print("|---|---|---|---|---|---|")
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
    cmp = server_side("pages/3_Compare.py", [
        ("runs", lambda at, i: at.multiselect(key="cmp_runs").set_value(runs[: 2 + i % 2])),
        ("another task", lambda at, i: at.button[0].click()),
        ("K", lambda at, i: at.number_input(key="cmp_k_sinusoid").set_value([5, 10][i % 2])),
    ])
    for k, ts in cmp.items():
        print(row(f"Compare: {k} (server-side re-run)", [t * 1e3 for t in ts[1:]],
                  "first change " f"{ts[0] * 1e3:.0f} ms"), flush=True)
    nav = server_side("pages/4_Navigation.py", [
        ("random goal", lambda at, i: at.button[0].click()),
        ("algorithm", lambda at, i: at.selectbox(key="nav_algo").set_value(["fomaml", "maml"][i % 2])),
    ])
    for k, ts in nav.items():
        print(row(f"Navigation: {k} (server-side re-run)", [t * 1e3 for t in ts[1:]],
                  "first change " f"{ts[0] * 1e3:.0f} ms"), flush=True)
    if not args.skip_first_page:
        t = first_page()
        print(row("First page ready after server start", [x * 1e3 for x in t]))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
