"""Are the memory and time estimates (maml_viz/budget.py) honest? For a range of settings, measure
the peak memory (resident set, reset before the computation) and the time per meta-iteration of
a real training, and of an evaluation, each in a fresh process, and print them beside the
estimates. Memory must never exceed the estimate (it is what refuses jobs); time should be
within about 2x.

    nice -n 10 python benchmarks/budget_check.py [--quick]
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import json, sys, time, torch
torch.set_num_threads(1)
sys.path.insert(0, sys.argv[1])
from maml_viz.engine.registry import make_config
from maml_viz.engine.train import Trainer
from maml_viz.runs.evaluate import evaluate
spec = json.loads(sys.argv[2])
def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
cfg = make_config(**spec["cfg"])
tr = Trainer(cfg, "cpu")
its = spec.get("its", 3)
open("/proc/self/clear_refs", "w").write("5")
base = rss("VmRSS:")
times = []
if spec["what"] == "training":
    for _ in range(its):
        t0 = time.perf_counter(); tr.run(1); times.append(time.perf_counter() - t0)
else:
    run = tr.result()
    t0 = time.perf_counter()
    evaluate(run, steps=spec.get("steps"), n_tasks=spec.get("tasks"))
    times.append(time.perf_counter() - t0)
print(json.dumps({"peak": rss("VmHWM:") - base, "seconds": sorted(times)[len(times) // 2]}))
"""

CASES = [
    ("training", {"family": "sinusoid", "algo": "maml"}),
    ("training", {"family": "sinusoid", "algo": "maml", "hidden": [256, 256], "meta_batch": 100, "k_shot": 50}),
    ("training", {"family": "sinusoid", "algo": "maml", "hidden": [512, 512], "meta_batch": 200, "k_shot": 100}),
    ("training", {"family": "sinusoid", "algo": "maml", "inner_steps": 5, "hidden": [128, 128], "meta_batch": 100, "k_shot": 50}),
    ("training", {"family": "sinusoid", "algo": "reptile", "hidden": [256, 256], "meta_batch": 100, "k_shot": 50}),
    ("training", {"family": "sinusoid", "algo": "metasgd", "hidden": [256, 256], "meta_batch": 100, "k_shot": 50}),
    ("training", {"family": "sinusoid", "algo": "pretrained", "hidden": [256, 256], "meta_batch": 100, "k_shot": 50}),
    ("training", {"family": "blobs", "algo": "maml", "hidden": [128, 128], "meta_batch": 100, "k_shot": 10}),
    ("training", {"family": "linear", "algo": "maml", "meta_batch": 1000, "k_query": 1000}),
    ("training", {"family": "navigation", "algo": "maml"}),
    ("training", {"family": "navigation", "algo": "reptile"}),
    ("training", {"family": "navigation", "algo": "pretrained", "meta_batch": 40}),
    ("evaluation", {"family": "sinusoid", "algo": "maml"}),
    ("evaluation", {"family": "sinusoid", "algo": "maml", "hidden": [256, 256]}),
    ("evaluation", {"family": "blobs", "algo": "maml", "hidden": [128, 128]}),
    ("evaluation", {"family": "navigation", "algo": "maml"}),
    ("training", {"family": "omniglot", "algo": "maml"}),
    ("training", {"family": "omniglot", "algo": "fomaml"}),
    ("training", {"family": "omniglot", "algo": "reptile"}),
    ("training", {"family": "omniglot", "algo": "pretrained"}),
    ("training", {"family": "omniglot", "algo": "maml", "hidden": [64, 64, 64, 64]}),
    ("evaluation", {"family": "omniglot", "algo": "maml"}, 200),
    ("evaluation", {"family": "omniglot", "algo": "maml", "family_options": {"n_way": 20}}, 100),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the first few cases")
    ap.add_argument("--family", help="only the cases of this task family")
    a = ap.parse_args()
    sys.path.insert(0, ROOT)
    import torch
    torch.set_num_threads(1)
    from maml_viz.engine.registry import make_config
    from maml_viz.runs.budget import eval_estimate, train_estimate

    print(f"{'what':<10} {'settings':<66} {'peak MB':>8} {'est MB':>8} {'ratio':>6} "
          f"{'s':>7} {'est s':>7} {'ratio':>6}")
    worst_mem, times = 0.0, []
    cases = [c for c in CASES if a.family in (None, c[1]["family"])]
    for what, kw, *tasks in (cases[:4] if a.quick else cases):
        tasks = tasks[0] if tasks else None            # evaluation: held-out tasks (None: default)
        cfg = make_config(**{k: tuple(v) if k == "hidden" else v for k, v in kw.items()})
        est = train_estimate(cfg) if what == "training" else eval_estimate(cfg, n_tasks=tasks)
        spec = {"what": what, "cfg": kw, "tasks": tasks}
        r = subprocess.run([sys.executable, "-c", CHILD, ROOT, json.dumps(spec)],
                           capture_output=True, text=True, timeout=1200)
        if r.returncode:
            print(what, kw, "FAILED", r.stderr[-500:])
            continue
        got = json.loads(r.stdout.strip().splitlines()[-1])
        est_s = est.per_iteration if what == "training" else est.seconds
        mem_ratio = got["peak"] / est.bytes
        worst_mem = max(worst_mem, mem_ratio)
        times.append(est_s / max(got["seconds"], 1e-9))
        label = ", ".join(f"{k}={v}" for k, v in kw.items()) + (f", tasks={tasks}" if tasks else "")
        print(f"{what:<10} {label[:66]:<66} {got['peak'] / 1e6:>8.1f} {est.bytes / 1e6:>8.1f} "
              f"{mem_ratio:>6.2f} {got['seconds']:>7.3f} {est_s:>7.3f} {times[-1]:>6.2f}")
    print(f"\nmeasured/estimated memory: at most {worst_mem:.2f} (must be <= 1); "
          f"estimated/measured time: {min(times):.2f}..{max(times):.2f}")


if __name__ == "__main__":
    main()
