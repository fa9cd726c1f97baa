"""Dashboard latency, the two figures of the dashboard issue:

1. server-side re-render when the Playground's step slider moves (AppTest runs the page script
   in-process: script + figure building + serialisation, no browser), median over 30 moves;
2. time from `streamlit run app.py` to the first page being ready in headless Chromium
   (heading shown, Plotly charts drawn, script idle), from bundled runs, median over 3 fresh
   servers. Needs Debian's chromium (see README).
"""
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))


def slider_latency(moves=30):
    from streamlit.testing.v1 import AppTest
    os.environ.setdefault("MAML_VIZ_RUNS", tempfile.mkdtemp())
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    at.switch_page("pages/1_Playground.py")
    at.run()
    times = []
    for i in range(moves):
        t0 = time.perf_counter()
        at.slider(key="pg_step_sinusoid").set_value(i % 11).run()
        times.append(time.perf_counter() - t0)
        assert not at.exception
    return statistics.median(times) * 1e3, min(times) * 1e3, max(times) * 1e3


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
    return statistics.median(out), out


if __name__ == "__main__":
    med, lo, hi = slider_latency()
    print(f"Playground step slider, server-side re-render: median {med:.0f} ms "
          f"(min {lo:.0f}, max {hi:.0f}) over 30 moves  [target <= 150 ms]")
    med, all_ = first_page()
    print(f"First page ready after server start: median {med:.2f} s "
          f"({', '.join(f'{t:.2f}' for t in all_)})  [target <= 5 s]")
