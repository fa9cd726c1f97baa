"""Playground latency as a person feels it (issue 21: median <= 100 ms for the small families):
in headless Chromium on the real page, the time from the input event (the key press, the
typed value's input event, the pointer going down, moving or, for a tap, coming up) to the first
painted frame after the chart's drawn data changed, for each interaction, several times; and the
websocket messages the page sent to the server meanwhile (the target: none).

Beside the wall time, the page's main-thread CPU time for the same interaction (Chrome's
ThreadTime, from before the input until the chart is drawn): on a machine shared with other
work the wall time grows with the load, this hardly does, and on an idle machine the wall time
is about this plus one frame.

Run alone:  python benchmarks/playground_latency.py [--repeat 9]
(benchmarks/app_latency.py prints the same rows beside the other pages'.) The machine's load
average is printed: on a shared 2-core machine the absolute numbers move with it.
"""
import argparse
import os
import statistics
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

WATCH = """() => {
  const panels = () => [...document.querySelectorAll('[data-maviz-pg] [data-panel]')];
  const part = (a, n) => Array.from(a || []).slice(0, n).join(',');
  const sig = () => panels().map((gd) => (gd._fullData || []).map((t) =>
      t.type === 'heatmap' ? (t.z || []).map((r) => part(r, 60)).join(';')
                           : part(t.x, 8) + '/' + part(t.y, 40)).join('|')).join('#');
  window.__lat = []; window.__t0 = null; window.__ev = null;
  for (const ev of ['keydown', 'input', 'pointerdown', 'pointermove', 'pointerup'])
    window.addEventListener(ev, () => {
      if (window.__ev === ev && window.__t0 === null) { window.__t0 = performance.now(); window.__last = sig(); }
    }, true);
  const loop = () => {
    if (window.__t0 !== null && sig() !== window.__last) {
      const t = window.__t0; window.__t0 = null;
      requestAnimationFrame(() => window.__lat.push(performance.now() - t));
    }
    requestAnimationFrame(loop);
  };
  loop();
}"""
TO_SCREEN = """([panel, x, y, ax]) => {
    const gd = document.querySelector('[data-maviz-pg] [data-panel="' + panel + '"]');
    const L = gd._fullLayout, xa = L['xaxis' + ax], ya = L['yaxis' + ax], b = gd.getBoundingClientRect();
    return [b.left + xa._offset + xa.l2p(x), b.top + ya._offset + ya.l2p(y)]; }"""


def _open(chromium, url, query, width=1400, height=900, touch=False):
    from browser import count_sent, wait_idle
    ctx = chromium.new_context(viewport={"width": width, "height": height}, has_touch=touch)
    page = ctx.new_page()
    page.sent = count_sent(page)
    page.goto(f"{url}/Playground?{query}")
    page.wait_for_selector('[data-maviz-pg][data-ready="1"]', timeout=180_000)
    wait_idle(page)
    page.wait_for_timeout(1000)
    page.evaluate(WATCH)
    return page


def _timed(page, event, action):
    n = page.evaluate("() => window.__lat.length")
    page.evaluate("(ev) => { window.__ev = ev; window.__t0 = null; }", event)
    action()
    page.wait_for_function("(n) => window.__lat.length > n", arg=n, timeout=30_000)
    page.wait_for_timeout(120)
    return page.evaluate("() => window.__lat[window.__lat.length - 1]")


def _thread_ms(page):
    if not hasattr(page, "cdp"):
        page.cdp = page.context.new_cdp_session(page)
        page.cdp.send("Performance.enable")
    m = {x["name"]: x["value"] for x in page.cdp.send("Performance.getMetrics")["metrics"]}
    return 1000 * m["ThreadTime"]


def _cpu(page, action):
    """Main-thread CPU ms from before the input until the chart is drawn (no watcher running)."""
    page.evaluate("() => { window.__ev = null; }")
    page.wait_for_timeout(150)
    a = _thread_ms(page)
    action()
    page.wait_for_function("""() => { const r = document.querySelector('[data-maviz-pg]');
        return r.dataset.drawn === '1' && r.dataset.url === '1'; }""", timeout=30_000)
    return _thread_ms(page) - a


def _key(page, sel, keys):
    page.locator(sel).focus()
    return lambda i: page.keyboard.press(keys[i % len(keys)])


def _at(page, panel, x, y, ax=""):
    return page.evaluate(TO_SCREEN, [panel, x, y, ax])


def measure(chromium, url, repeat=9) -> list:
    """[(label, [ms], messages sent)] for each Playground interaction."""
    rows = []

    def run(page, label, event, action):
        n0 = len(page.sent)
        ms = [_timed(page, event, lambda: action(i)) for i in range(repeat)]
        cpu = [_cpu(page, lambda: action(i)) for i in range(repeat)]
        page.wait_for_timeout(300)
        rows.append((label, ms, cpu, len(page.sent) - n0))

    page = _open(chromium, url, "task=3")
    run(page, "Playground (sine): K ±1", "keydown", _key(page, "[data-k]", ["ArrowRight", "ArrowLeft"]))
    lr = page.locator("[data-lr]")
    run(page, "Playground (sine): step size α typed", "input", lambda i: lr.fill(["0.015", "0.01"][i % 2]))
    steps = page.locator("[data-steps]")
    run(page, "Playground (sine): steps typed", "input", lambda i: steps.fill(["12", "10"][i % 2]))
    run(page, "Playground (sine): step shown ±1", "keydown", _key(page, "[data-step]", ["ArrowRight", "ArrowLeft"]))
    new = page.get_by_role("button", name="New task")
    run(page, "Playground (sine): New task", "pointerdown", lambda i: new.click())
    xs = [-4 + 8 * i / max(repeat - 1, 1) for i in range(repeat)]
    run(page, "Playground (sine): click adds a point", "pointerdown",
        lambda i: page.mouse.click(*_at(page, "curve", xs[i], 2.0 * (-1) ** i)))

    def drag(i):
        page.mouse.move(*_at(page, "curve", xs[i], 2.0 * (-1) ** i))
        page.mouse.down()
        page.mouse.move(*_at(page, "curve", xs[i] + 0.3, 1.0 * (-1) ** i))
        page.mouse.up()
    run(page, "Playground (sine): drag moves a point", "pointermove", drag)
    page.context.close()

    page = _open(chromium, url, "task=3", 390, 844, touch=True)
    page.locator('[data-maviz-pg] [data-panel="curve"]').scroll_into_view_if_needed()
    run(page, "Playground (sine, phone): tap adds a point", "pointerup",
        lambda i: page.touchscreen.tap(*_at(page, "curve", xs[i], -2.0 * (-1) ** i)))
    page.context.close()

    page = _open(chromium, url, "family=blobs&task=3")
    run(page, "Playground (2D classes): K ±1", "keydown", _key(page, "[data-k]", ["ArrowRight", "ArrowLeft"]))
    run(page, "Playground (2D classes): step shown ±1", "keydown",
        _key(page, "[data-step]", ["ArrowLeft", "ArrowRight"]))
    run(page, "Playground (2D classes): click adds an example", "pointerdown",
        lambda i: page.mouse.click(*_at(page, "maps", xs[i] * 0.8, 3.0 * (-1) ** i, "2")))
    page.context.close()
    return rows


def row(label, ms, cpu, messages):
    return (f"| {label} | {statistics.median(ms):.0f} | {max(ms):.0f} | "
            f"{statistics.median(cpu):.0f} | {max(cpu):.0f} | {len(ms)} | {messages} |")


HEADER = ("| Playground interaction (input event -> repainted chart) | median ms | worst | "
          "main-thread CPU ms, median | CPU worst | n | messages to the server |\n"
          "|---|---|---|---|---|---|---|")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    from browser import browser, server
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)\n")
    print(HEADER)
    with tempfile.TemporaryDirectory() as d, server(d) as (url, _), browser() as b:
        for r in measure(b, url, args.repeat):
            print(row(*r), flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
