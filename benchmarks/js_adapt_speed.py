"""How long the browser's adaptation engine (assets/js/adapt.js) takes in Chromium: a 1-40-40-1
network adapting for 50 SGD steps on 50 points (the sinusoid MAML run), alone and with everything
the Playground draws (the 200-point curve and the error on the true curve after every step), and
the 2D classes (blobs MAML, K=5 per class, 10 steps) without, with two and with every 60×60
class map. Prints the median and the
90th percentile of many repeats, after a warm-up, and the machine's load.

With --page it also starts Streamlit on the in-browser Playground prototype
(tests/apps/playground_live.py) and times K ± 1 from the key press to the next painted frame
after the chart's curve changed, and counts the websocket messages those presses sent.

    python benchmarks/js_adapt_speed.py [--repeats 200] [--page]
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import torch  # noqa: E402

from browser import browser, count_sent, server, wait_idle  # noqa: E402
from maml_viz.views import browser as browser_payload  # noqa: E402
from maml_viz.runs.files import load_run  # noqa: E402

TIME = """
([payload, cases, repeats]) => {
  const eng = MamlAdapt.load(payload), out = {};
  for (const c of cases) {
    const sup = eng.support(c.task, c.k, [], false), t = [];
    for (let i = 0; i < repeats + 10; i++) {
      const t0 = performance.now();
      if (c.bare) MamlAdapt.trajectory(eng.model, eng.loss, eng.params, eng.keys, eng.innerLr,
                                       sup.x, sup.y, sup.n, c.steps);
      else {
        const res = eng.adapt(sup, {steps: c.steps, grid: c.grid});
        for (const s of c.maps || []) eng.classesOf(res.predsAt(s));
      }
      if (i >= 10) t.push(performance.now() - t0);       // the first 10: warm-up (JIT)
    }
    t.sort((a, b) => a - b);
    out[c.name] = {median: t[t.length >> 1], p90: t[Math.floor(t.length * 0.9)], n: t.length};
  }
  return out;
}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--page", action="store_true", help="also time the Streamlit prototype")
    args = ap.parse_args()
    torch.set_num_threads(1)
    runs = os.path.join(ROOT, "assets", "runs")
    sine = load_run(os.path.join(runs, next(d for d in os.listdir(runs) if d.startswith("sinusoid-maml-"))))
    blobs = load_run(os.path.join(runs, next(d for d in os.listdir(runs) if d.startswith("blobs-maml-"))))
    jobs = [(sine, [dict(name="1-40-40-1, 50 points, 50 steps: adaptation only", task=0, k=50,
                         steps=50, bare=True),
                    dict(name="... + curve (200 points) and errors after every step", task=0,
                         k=50, steps=50),
                    dict(name="Playground default (K=10, 10 steps, curve, errors)", task=0, k=10,
                         steps=10)]),
            (blobs, [dict(name="blobs 2-40-40-5, K=5/class, 10 steps (lazy: no map)",
                          task=0, k=5, steps=10),
                     dict(name="... + the 60×60 class map of 2 steps (before, shown)",
                          task=0, k=5, steps=10, maps=[0, 5]),
                     dict(name="... + the 60×60 class map after every step", task=0, k=5,
                          steps=10, grid=True)])]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"Chromium headless, {args.repeats} repeats after 10 warm-up runs")
    with browser() as chromium:
        page = chromium.new_page()
        page.set_content("<!doctype html><html><body></body></html>")
        page.add_script_tag(path=os.path.join(ROOT, "assets", "js", "adapt.js"))
        for run, cases in jobs:
            p = json.loads(browser_payload.to_json(browser_payload.payload(run, n_tasks=1)))
            reps = args.repeats if run is sine else max(10, args.repeats // 10)
            res = page.evaluate(TIME, [p, cases, reps])
            for name, r in res.items():
                print(f"{name:<62} median {r['median']:7.2f} ms   p90 {r['p90']:7.2f} ms   "
                      f"(n={r['n']})")

    if args.page:
        page_latency()


WATCH = """() => {
  const r = document.querySelector('[data-maviz-pg]');
  const gd = r.querySelector('.js-plotly-plot');
  const sig = () => { const t = (gd._fullData || []).find(t => (t.name || '').endsWith('after adapting'));
                      return t ? Array.from(t.y).slice(0, 60).join() : ''; };
  window.__lat = []; let t0 = null, last = sig();
  window.addEventListener('keydown', () => { t0 = performance.now(); last = sig(); }, true);
  const loop = () => {
    if (t0 !== null && sig() !== last) {
      const t = t0; t0 = null; last = sig();
      requestAnimationFrame(() => window.__lat.push(performance.now() - t));
    }
    requestAnimationFrame(loop);
  };
  loop();
}"""


def page_latency(presses: int = 30):
    import tempfile
    with tempfile.TemporaryDirectory() as runs, \
            server(runs, script=os.path.join("tests", "apps", "playground_live.py")) as (url, _), \
            browser() as chromium:
        page = chromium.new_page(viewport={"width": 1300, "height": 1000})
        sent = count_sent(page)
        page.goto(url)
        page.wait_for_selector('[data-maviz-pg][data-ready="1"]', timeout=60_000)
        wait_idle(page)
        page.evaluate(WATCH)
        n0 = len(sent)
        page.locator("[data-k]").focus()
        for i in range(presses):
            n = page.evaluate("() => window.__lat.length")
            page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            page.wait_for_function("(n) => window.__lat.length > n", arg=n, timeout=10_000)
        lat = sorted(page.evaluate("() => window.__lat"))
        print(f"{'Streamlit prototype: K ± 1, key press to repainted chart':<62} median "
              f"{lat[len(lat) // 2]:7.2f} ms   worst {lat[-1]:7.2f} ms   (n={len(lat)}; "
              f"{len(sent) - n0} websocket messages sent)")


if __name__ == "__main__":
    main()
