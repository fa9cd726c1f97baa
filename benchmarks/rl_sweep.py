"""2D navigation: train several configurations side by side (one process and one thread each),
evaluate each with the RL protocol (40 held-out goals x 40 trajectories, 0..3 steps) and print a
table. This is how the navigation defaults were chosen; on a many-core machine the whole sweep
takes about as long as one run.

    python benchmarks/rl_sweep.py --jobs 14 --out /tmp/sweep            # the default sweep
    python benchmarks/rl_sweep.py --only maml fomaml --iterations 300    # a subset
"""
import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

# name -> extra `train` arguments (all on --family navigation)
SWEEP = {
    "maml": ["--algo", "maml"],
    "maml-seed1": ["--algo", "maml", "--seed", "1"],
    "maml-alpha0.1": ["--algo", "maml", "--inner-lr", "0.1"],          # the paper's text
    "maml-kquery20": ["--algo", "maml", "--k-query", "20"],
    "maml-kquery80": ["--algo", "maml", "--k-query", "80"],
    "maml-constant-lr": ["--algo", "maml", "--option", "lr_decay=0"],
    "maml-lr0.004": ["--algo", "maml", "--outer-lr", "0.004"],
    "maml-mb40": ["--algo", "maml", "--meta-batch", "40"],
    "maml-2steps": ["--algo", "maml", "--inner-steps", "2"],
    "maml-lambda0.5": ["--algo", "maml", "--option", "dice_lambda=0.5"],
    "maml-env-units": ["--algo", "maml", "--option", "action_scale=1"],  # the first version
    "fomaml": ["--algo", "fomaml"],
    "reptile": ["--algo", "reptile"],
    "anil": ["--algo", "anil"],
    "metasgd": ["--algo", "metasgd"],
    "pretrained": ["--algo", "pretrained"],
    "oracle": ["--algo", "oracle"],
    "scratch": ["--algo", "scratch"],
}


def one(name, extra, out, iterations):
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"}
    runs = os.path.join(out, name)
    cmd = [sys.executable, "-m", "maml_viz", "train", "--family", "navigation", "--quiet",
           "--device", "cpu", "--runs-dir", runs, *extra]
    if iterations:
        cmd += ["--iterations", str(iterations)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        return name, {"error": (p.stderr or p.stdout).strip()[-300:]}
    run_dir = p.stdout.strip().splitlines()[-1]
    e = subprocess.run([sys.executable, "-m", "maml_viz", "evaluate", run_dir, "--json"],
                       capture_output=True, text=True, env=env)
    if e.returncode != 0:
        return name, {"error": e.stderr.strip()[-300:]}
    rows = json.loads(e.stdout)["results"]
    return name, {"seconds": secs, "rows": rows, "run_dir": run_dir}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="/tmp/rl-sweep")
    ap.add_argument("--iterations", type=int, default=None, help="default: the family's")
    ap.add_argument("--only", nargs="*", default=None, help=f"names from {list(SWEEP)}")
    a = ap.parse_args()
    names = a.only or list(SWEEP)
    unknown = [n for n in names if n not in SWEEP]
    if unknown:
        ap.error(f"unknown sweep names {unknown}")
    with ThreadPoolExecutor(a.jobs) as ex:
        results = dict(ex.map(lambda n: one(n, SWEEP[n], a.out, a.iterations), names))
    print(f"navigation sweep, {a.jobs} parallel jobs (1 thread each); return (mean ± 95% CI over "
          f"40 goals) after 0..3 steps")
    print(f"{'config':<16}{'train s':>9}" + "".join(f"{'step ' + str(s):>17}" for s in range(4)))
    for n in names:
        r = results[n]
        if "error" in r:
            print(f"{n:<16} ERROR {r['error']}")
            continue
        cells = "".join(f"{row['mean']:>9.1f} ± {row['ci95']:<5.1f}" for row in r["rows"])
        print(f"{n:<16}{r['seconds']:>9.0f}{cells}")
    with open(os.path.join(a.out, "sweep.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
