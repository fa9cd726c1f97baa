"""Soak test: N simulated users share one app for a while, exploring every page and training
small runs on the Train page (several users sometimes asking for the same settings, some
stopping their job); then the store is checked. Prints: requests served, latency (median, p95,
max) overall and per kind of action, errors (exceptions shown on a page, import errors named),
runs lost or duplicated, and the machine's load during the run (1-minute load average, sampled
every 5 s: latency on a shared machine means little without it).

    nice -n 10 python benchmarks/soak.py --users 8 --minutes 5            # AppTest sessions
    nice -n 10 python benchmarks/soak.py --users 8 --minutes 5 --browser  # Chromium contexts

Default: N AppTest sessions in one process sharing the app's cached backend (one store, one job
queue whose trainings run in child processes, as on a server), taking turns: a request is one
run of a page script caused by a user action (opening a page, pressing a button, submitting the
form), timed server-side. --browser: N browser contexts in one headless Chromium against a real
server started for the run, all users arriving at once on the cold server (no page has run yet:
the first visits import everything at the same moment), timed from the action until the page is
idle again (this needs far more CPU than a 2-core machine shared with other work has). Errors: an exception on a page or a request that does not
finish (120 s). Lost: a training that finished (done, or stopped and kept) whose run is not in
the store, healthy, at the end. Duplicated: a config trained again after it was done (the job
log) or stored in more than one folder.
"""
import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'
PAGES = {"": "Learning to learn", "Playground": "Playground", "Train": "Train",
         "Compare": "Compare algorithms", "Navigation": "Navigation"}
BUTTONS = {"": "Try another task", "Playground": "New task", "Compare": "Another task",
           "Navigation": "Random goal"}
SEEDS = range(101, 141)           # a small pool: users often ask for the same settings
ITERATIONS = (2000, 20_000)       # straight lines: a few seconds, or long enough to be stopped


class Stats:
    def __init__(self):
        self.latency, self.errors, self.seen_done, self.submitted = [], [], set(), set()
        self.by_action: dict = {}                  # kind of action -> latencies (s)

    def took(self, kind: str, seconds: float):
        self.latency.append(seconds)
        self.by_action.setdefault(kind, []).append(seconds)


class Load:
    """The 1-minute load average, sampled every `every` s in a thread while the soak runs."""

    def __init__(self, every=5.0):
        import threading
        self.samples, self.stop = [os.getloadavg()[0]], threading.Event()
        self.every = every
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def report(self) -> str:
        self.stop.set()
        s = sorted(self.samples)
        return (f"load (1-min average, {len(s)} samples, {os.cpu_count()} cores): at start "
                f"{self.samples[0]:.1f}, median {statistics.median(s):.1f}, max {s[-1]:.1f}")


def pct(values, q):
    v = sorted(values)
    return v[int(q * (len(v) - 1))] if v else float("nan")


WATCH = """
window.__st = [];
new MutationObserver(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (app) window.__st.push([performance.now(), app.getAttribute('data-test-script-state')]);
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
"""
RERUN_DONE = """(t0) => { const ev = (window.__st || []).filter(e => e[0] > t0);
  const r = ev.findIndex(e => e[1] === 'running');
  const d = r < 0 ? null : ev.slice(r).find(e => e[1] === 'notRunning');
  return d ? d[0] : (r < 0 && performance.now() - t0 > 2000 ? -1 : false); }"""


def key_of(seed, iterations=None):
    from maml_viz.engine.registry import make_config
    return make_config(family="linear", algo="maml", seed=seed, iterations=iterations).key()


async def settle(page, timeout=90_000):
    await page.wait_for_selector(IDLE, timeout=timeout)


async def act(stats, page, what, action, heading=None, kind=None):
    """Do `action` (a page open if heading is given, else a click) and time the server's
    answer: until the heading is shown and the script idle, or until the rerun it caused ends."""
    t_wall = time.perf_counter()
    kind = kind or what.split(" ", 2)[-1]
    try:
        if heading is not None:
            await action()
            await page.get_by_role("heading", name=heading).first.wait_for(timeout=90_000)
            await settle(page)
            stats.took(kind, time.perf_counter() - t_wall)
        else:
            t0 = await page.evaluate("performance.now()")
            await action()
            done = await (await page.wait_for_function(RERUN_DONE, arg=t0, timeout=90_000,
                                                       polling=50)).json_value()
            if done > 0:                         # (-1: the action caused no rerun)
                stats.took(kind, (done - t0) / 1000)
        shown = page.locator('[data-testid="stException"]')
        if await shown.count():
            text = (await shown.first.inner_text()).replace("\n", " ")
            stats.errors.append(f"{what}: exception shown: {text[:160]}")
    except Exception as e:
        stats.errors.append(f"{what}: {type(e).__name__}: {str(e).splitlines()[0][:120]}")


async def user(i, browser, url, stats, deadline):
    rng = random.Random(i)
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900} if i % 4 else
                                    {"width": 390, "height": 844})
    await ctx.add_init_script(WATCH)
    page = await ctx.new_page()
    page.set_default_timeout(90_000)
    mine = None
    while time.time() < deadline:
        try:
            mine = await visit(i, rng, page, url, stats, mine)
        except Exception as e:                 # a step that timed out outside a timed action
            stats.errors.append(f"user {i}: {type(e).__name__}: {str(e).splitlines()[0][:120]}")
        await page.wait_for_timeout(rng.randint(500, 3000))            # reading
    await ctx.close()


async def visit(i, rng, page, url, stats, mine):
    """One page visit of user i: open a page, maybe press its button, maybe train or stop."""
    path = rng.choice(list(PAGES) + ["Train", "Train"])
    n_err = len(stats.errors)
    await act(stats, page, f"user {i} opens /{path}", lambda: page.goto(f"{url}/{path}"),
              heading=PAGES[path], kind=f"open /{path}")
    if len(stats.errors) > n_err:
        return mine
    if path in BUTTONS and rng.random() < 0.7:
        b = page.get_by_role("button", name=BUTTONS[path])
        if await b.count():
            await act(stats, page, f"user {i} presses {BUTTONS[path]}", b.first.click,
                      kind=f"press {BUTTONS[path]}")
    if path == "Train":
        texts = await page.locator('[data-testid="stProgress"]').all_inner_texts()
        for t in texts:
            m = re.search(r"seed (\d+)\): (done|stopped at)", t)
            if m:
                stats.seen_done.add(key_of(int(m.group(1))))
        busy = any("yours" in t and ("training" in t or "waiting" in t or "starting" in t)
                   for t in texts)
        if not busy and rng.random() < 0.6:
            seed = rng.choice(SEEDS)
            await page.get_by_role("combobox", name="Task family").first.click()
            await act(stats, page, f"user {i} picks a family",
                      page.get_by_role("option", name="Straight lines").click, kind="pick family")
            await page.get_by_role("spinbutton", name="Seed", exact=True).fill(str(seed))
            await act(stats, page, f"user {i} starts seed {seed}",
                      page.get_by_role("button", name="Start training").click, kind="start training")
            stats.submitted.add(key_of(seed))
            mine = seed
        elif busy and mine is not None and rng.random() < 0.15:
            stop = page.get_by_role("button", name="Stop")
            if await stop.count():
                await act(stats, page, f"user {i} stops", stop.first.click, kind="stop")
    return mine


async def main_async(a, url):
    from browser import ARGS, CHROMIUM
    from playwright.async_api import async_playwright
    stats = Stats()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            deadline = time.time() + 60 * a.minutes
            await asyncio.gather(*(user(i, browser, url, stats, deadline) for i in range(a.users)))
            # let the queue drain, then read the final state from a fresh session
            page = await browser.new_page()
            t0 = time.time()
            while time.time() - t0 < 600:
                await page.goto(f"{url}/Train")
                await page.get_by_role("heading", name="Train").first.wait_for(timeout=60_000)
                await settle(page)
                texts = await page.locator('[data-testid="stProgress"]').all_inner_texts()
                for t in texts:
                    m = re.search(r"seed (\d+)\): (done|stopped at)", t)
                    if m:
                        stats.seen_done.add(key_of(int(m.group(1))))
                if not any(w in t for t in texts for w in ("training", "waiting", "starting",
                                                           "stopping", "saving")):
                    break
                await page.wait_for_timeout(3000)
        finally:
            await browser.close()
    return stats


PAGE_FILES = {"": "app.py", "Playground": "pages/1_Playground.py", "Train": "pages/2_Train.py",
              "Compare": "pages/3_Compare.py", "Navigation": "pages/4_Navigation.py"}


def apptest_soak(a) -> Stats:
    from streamlit.testing.v1 import AppTest

    import pages._shared.ui as ui
    stats, rng = Stats(), random.Random(0)
    users = [AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
             for _ in range(a.users)]
    mine = [None] * a.users

    def request(what, at, fn, kind=None):
        t0 = time.perf_counter()
        try:
            fn()
            stats.took(kind or what.split(" ", 2)[-1], time.perf_counter() - t0)
            if at.exception:
                stats.errors.append(f"{what}: {at.exception[0].value[:120]}")
        except Exception as e:
            stats.errors.append(f"{what}: {type(e).__name__}: {str(e)[:120]}")

    deadline = time.time() + 60 * a.minutes
    while time.time() < deadline:
        for i, at in enumerate(users):
            path = rng.choice(list(PAGES) + ["Train", "Train"])
            request(f"user {i} opens /{path}", at,
                    lambda: (at.switch_page(PAGE_FILES[path]), at.run()), f"open /{path}")
            label = BUTTONS.get(path)
            b = next((x for x in at.button if x.label == label), None) if label else None
            if b is not None and rng.random() < 0.7:
                request(f"user {i} presses {label}", at, lambda: b.click().run(), f"press {label}")
            if path == "Train" and not at.exception:
                jobs = ui.backend().jobs
                busy = [j for j in jobs.active() if j.owner == at.session_state["_session_id"]]
                stop = next((x for x in at.button if x.label == "Stop"), None)
                if not busy and rng.random() < 0.6:
                    seed, its = rng.choice(SEEDS), rng.choice(ITERATIONS)
                    request(f"user {i} picks a family", at,
                            lambda: at.selectbox(key="tr_family").set_value("linear").run(),
                            "pick family")
                    next(w for w in at.number_input if w.label == "Seed").set_value(seed)
                    next(w for w in at.number_input if w.label == "Meta-iterations").set_value(its)
                    request(f"user {i} starts seed {seed}", at, lambda: at.button(
                        key="FormSubmitter:train_form_linear-Start training").click().run(),
                            "start training")
                    stats.submitted.add(key_of(seed, its))
                    mine[i] = seed
                elif busy and stop is not None and rng.random() < 0.3:
                    request(f"user {i} stops", at, lambda: stop.click().run(), "stop")
            time.sleep(rng.uniform(0.05, 0.3))                   # between users' requests
    jobs = ui.backend().jobs
    t0 = time.time()
    while jobs.active() and time.time() - t0 < 600:             # let the queue drain
        time.sleep(1)
    for j in jobs.jobs():
        if j.status in ("done", "stopped") and j.run is not None:
            stats.seen_done.add(j.key)
    jobs.shutdown()
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--browser", action="store_true", help="Chromium contexts, a real server")
    a = ap.parse_args()
    from maml_viz.engine.registry import make_config
    from maml_viz.runs.files import check_run
    from maml_viz.runs.store import RunStore, scan

    runs = tempfile.mkdtemp(prefix="soak-runs-")
    log = runs + ".jobs.log"
    os.environ["MAML_VIZ_JOB_LOG"] = log                  # the server records what it trains
    os.environ["MAML_VIZ_RUNS"] = runs
    t_start = time.time()
    load = Load()
    if a.browser:
        from browser import server
        with server(runs) as (url, _):
            stats = asyncio.run(main_async(a, url))
    else:
        stats = apptest_soak(a)
    elapsed = time.time() - t_start
    folders = [d.name for d in scan(runs)[0]]
    debris = [p for p in os.listdir(runs) if p.startswith((".tmp-", ".old-"))]
    lost = [k for k in sorted(stats.seen_done)
            if k not in folders or check_run(os.path.join(runs, k)) is not None]
    keys = stats.submitted
    dup = [k for k in set(folders) if folders.count(k) > 1]
    finished, started, stopped = set(), 0, 0
    for line in open(log) if os.path.exists(log) else []:
        _, event, key, detail = line.split(maxsplit=3)
        started += event == "start"
        if event == "start" and key in finished:
            dup.append(key)                                  # trained again after it was done
        if event == "end" and detail.strip() == "done":
            finished.add(key)
        stopped += event == "end" and detail.strip() in ("stopped", "cancelled")
    unhealthy = [e["key"] for e in RunStore(runs).list() if e["error"]]
    lat = sorted(stats.latency)
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
    print(f"soak: {a.users} users, {elapsed / 60:.1f} min (including draining the queue), "
          f"{'headless Chromium, one server' if a.browser else 'AppTest sessions, one backend'}")
    print("| requests served | median latency | p95 latency | max latency | errors | distinct "
          "settings asked | trainings run (stopped or cancelled) | runs lost | runs duplicated | damaged runs | debris |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    med, top = (statistics.median(lat), lat[-1]) if lat else (float("nan"), float("nan"))
    print(f"| {len(lat)} | {med:.2f} s | {p95:.2f} s | {top:.2f} s | "
          f"{len(stats.errors)} | {len(keys)} | {started} ({stopped}) | {len(lost)} | {len(dup)} | "
          f"{len(unhealthy)} | {len(debris)} |")
    print()
    print("| action | requests | median | p95 | max |")
    print("|---|---|---|---|---|")
    for kind, v in sorted(stats.by_action.items()):
        print(f"| {kind} | {len(v)} | {statistics.median(v):.2f} s | {pct(v, 0.95):.2f} s | "
              f"{max(v):.2f} s |")
    print(load.report())
    imports = [e for e in stats.errors if "partially initialized" in e or "ImportError" in e
               or "has no attribute" in e]
    print(f"import errors: {len(imports)}")
    print(f"  (job log: {log}; runs: {runs})")
    for e in stats.errors[:20]:
        print("  error:", e)
    if lost:
        print("  lost:", lost)


if __name__ == "__main__":
    main()
