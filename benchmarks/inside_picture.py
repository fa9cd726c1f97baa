"""The README's pictures, made the way a reader makes them: a page opened in headless Chromium,
the "⬇ PNG" button under a chart clicked, and the download kept (pages/_shared/export.js:
publication size, readable fonts). By default the Inside page of the bundled sinusoid runs (and
each page's sentence printed); with --compare RUNS_DIR, Compare on the seed-0 runs of a sweep's
folder with "Mean over training seeds" on: the probability-of-improvement matrix (and its
sentence).

    python benchmarks/inside_picture.py [--out assets] [--algos maml,anil] [--chart in_change]
    python benchmarks/inside_picture.py --compare /tmp/sw5 --algos maml,fomaml,reptile
"""
import argparse
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)

from browser import IDLE, browser, server  # noqa: E402

from maml_viz.engine.registry import make_config  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "assets"))
    ap.add_argument("--algos", default="maml,anil")
    ap.add_argument("--chart", default="in_change")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--compare", default=None, help="a sweep's runs folder (seeds of --algos)")
    a = ap.parse_args()
    if a.compare:
        return compare(a)
    with tempfile.TemporaryDirectory() as tmp, server(os.path.join(tmp, "runs"), timeout=180) \
            as (url, _), browser() as chromium:
        for algo in a.algos.split(","):
            key = make_config(family="sinusoid", algo=algo).key()
            page = chromium.new_page(viewport={"width": 1400, "height": 2400},
                                     accept_downloads=True)
            page.goto(f"{url}/Inside?family=sinusoid&run={key}&steps={a.steps}&task=-1")
            button = page.locator(f".st-key-{a.chart} [data-maviz-export] button",
                                  has_text="PNG")
            button.wait_for(timeout=240_000)
            page.wait_for_selector(IDLE, timeout=240_000)
            sentence = page.locator('[data-testid="stAlertContentInfo"]').first.inner_text()
            with page.expect_download(timeout=60_000) as dl:
                button.click()
            path = os.path.join(a.out, f"inside-{algo}.png")
            shutil.copy(dl.value.path(), path)
            print(f"{algo}: {path} ({os.path.getsize(path)} bytes)\n  {sentence}")
            page.close()


def compare(a):
    from maml_viz.runs.store import RunStore
    keys = [next(e["key"] for e in RunStore(a.compare).list()
                 if e["config"].algo == algo and e["config"].seed == 0)
            for algo in a.algos.split(",")]
    with server(a.compare, timeout=180) as (url, _), browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 3200}, accept_downloads=True)
        page.goto(f"{url}/Compare?runs={','.join(keys)}")
        button = page.locator(".st-key-cmp_poi [data-maviz-export] button", has_text="PNG")
        button.wait_for(timeout=300_000)
        page.wait_for_selector(IDLE, timeout=300_000)
        with page.expect_download(timeout=60_000) as dl:
            button.click()
        path = os.path.join(a.out, "compare-poi.png")
        shutil.copy(dl.value.path(), path)
        print(f"{path} ({os.path.getsize(path)} bytes)")
        print(page.locator("text=Each cell:").first.inner_text())


if __name__ == "__main__":
    main()
