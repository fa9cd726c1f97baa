"""Helpers for the real-browser tests: a Streamlit server on a free loopback port and Debian's
Chromium driven by Playwright (launched as the developers' guide says)."""
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SHOTS = os.path.join(ROOT, "screenshots")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(runs_dir, timeout=60, script="app.py"):
    """A Streamlit server for the app on a free loopback port: yields (url, its start time);
    stopped (terminate, then kill) when the block ends."""
    with server_process(runs_dir, timeout=timeout, script=script, stop_wait=10) as (url, proc):
        yield url, proc.started


@contextlib.contextmanager
def server_process(runs_dir, env=None, timeout=90, script="app.py", stop_wait=0):
    """Like `server`, but yields (url, the server's Popen) so that a test can stop it itself
    (its output is in proc.stdout); extra env entries are added to the server's environment.
    stop_wait: seconds to let it stop on SIGTERM before it is killed (0: killed at once)."""
    port = free_port()
    env = dict(os.environ, MAML_VIZ_RUNS=str(runs_dir), PYTHONUNBUFFERED="1", **(env or {}))
    t0 = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.address", "127.0.0.1",
         "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    proc.started = t0
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() - t0 > timeout:
                raise RuntimeError("streamlit did not start: " + proc.stdout.read().decode()[-2000:])
            time.sleep(0.2)
        yield url, proc
    finally:
        if proc.poll() is None and stop_wait:
            proc.terminate()
            try:
                proc.wait(stop_wait)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


@contextlib.contextmanager
def blank_page(*scripts):
    """A blank Chromium page (1000x1400) with Plotly.js (the copy the plotly package ships) and
    these files of assets/js loaded, for the tests that draw a view without a server."""
    import plotly
    with browser() as chromium:
        pg = chromium.new_page(viewport={"width": 1000, "height": 1400})
        pg.set_content("<!doctype html><html><body></body></html>")
        pg.add_script_tag(path=os.path.join(os.path.dirname(plotly.__file__), "package_data",
                                            "plotly.min.js"))
        for name in scripts:
            pg.add_script_tag(path=os.path.join(ROOT, "assets", "js", name))
        yield pg


@contextlib.contextmanager
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def wait_idle(page, timeout=90_000):
    """The script has finished and the frontend has painted every element (no placeholders)."""
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')",
                           timeout=timeout)


def open_chart_page(chromium, url, path, height=1000):
    """A new page at url/path, once its first Plotly chart is drawn and the script is idle."""
    page = chromium.new_page(viewport={"width": 1400, "height": height})
    page.goto(f"{url}/{path}")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    wait_idle(page)
    return page


def wait_for_trace(page, index, condition, timeout=30_000):
    """Wait until some trace t of the index-th Plotly chart satisfies the JS expression
    `condition` (in t). A chart being redrawn is briefly absent: that counts as not yet."""
    page.wait_for_function(
        f"""(i) => {{ const p = document.querySelectorAll('.js-plotly-plot')[i];
                      return !!(p && p._fullData && p._fullData.some(t => {condition})); }}""",
        arg=index, timeout=timeout)


def plot_data(page, index=0):
    """The data arrays of the index-th Plotly chart in the page."""
    return page.evaluate(
        """(i) => { const p = document.querySelectorAll('.js-plotly-plot')[i];
                   if (!p || !p._fullData) return null;   // decoded arrays (data holds bdata)
                   return p._fullData.map(t => ({name: t.name || '',
                       n: (t.x || t.z || []).length,
                       y: Array.from(t.y || []).slice(0, 400).map(Number)})); }""",
        index)


# ----------------------------------------------------------------------------- step sliders
def count_sent(page) -> list:
    """A list that grows by one for every websocket message the page sends to the server
    (attach before page.goto)."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    return sent


def slider_ticks(page, index=0):
    """Screen (x, y) of each step of the index-th chart's step slider."""
    plot = page.locator(".js-plotly-plot").nth(index)
    rail = plot.locator(".slider-rail-rect").first
    rail.scroll_into_view_if_needed()
    r = rail.bounding_box()
    ticks = plot.locator(".slider-tick-rect")
    return [(b["x"] + b["width"] / 2, r["y"] + r["height"] / 2)
            for b in (ticks.nth(i).bounding_box() for i in range(ticks.count()))]


def slider_active(page, index=0):
    return page.evaluate(
        """(i) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];
                    return gd._fullLayout.sliders[0].active; }""", index)


# the class each pixel of a map picture shows (the nearest of the classes' region colours; the
# pictures are MamlPgView.draw's: row r = the grid's r-th y, bottom up): one [G][G] list per picture
DECODE = """async ([hrefs, C]) => {
  const rgb = [...Array(C).keys()].map((c) => { const h = MamlPgView.CLASS_COLORS[c].slice(1);
    return [0, 2, 4].map((o) => Math.round(255 - 0.3 * (255 - parseInt(h.slice(o, o + 2), 16)))); });
  const out = [];
  for (const href of hrefs) {
    const img = new Image(); img.src = href; await img.decode();
    const cv = document.createElement('canvas'); cv.width = img.width; cv.height = img.height;
    const ctx = cv.getContext('2d'); ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, img.width, img.height).data, G = img.width, z = [];
    for (let r = 0; r < G; r++) { const row = [];              // row r = the grid's r-th y (bottom up)
      for (let q = 0; q < G; q++) { const o = 4 * ((G - 1 - r) * G + q);
        let best = 0, bd = Infinity;
        rgb.forEach((c, k) => { const dd = Math.abs(c[0] - d[o]) + Math.abs(c[1] - d[o + 1]) + Math.abs(c[2] - d[o + 2]);
                                if (dd < bd) { bd = dd; best = k; } });
        row.push(best); }
      z.push(row); }
    out.push(z);
  }
  return out;
}"""
