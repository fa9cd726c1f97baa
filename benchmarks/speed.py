"""The speed figures of issue 15, measured side by side in one run; prints a table per section.

    nice -n 10 python benchmarks/speed.py                  # the CPU figures (all sections)
    python benchmarks/speed.py --device cuda --budget 300  # the GPU figures (gpu_check.sh)
    python benchmarks/speed.py --sections scaling --quick  # a quick look

Sections (--sections, comma-separated):
  e2e      `python -m maml_viz train` (default config: sinusoid MAML, 20,000 iterations) in a fresh
           process without flags, twice (a cold compile cache, then warm), and with --no-compile
           (GPU: --no-cuda-graph, and --compile), against the tutorial MAML loop (a Python loop
           over tasks, one autograd.grad per task: maml_viz/bench.py) timed in this process
           between them. Prints it/s including compilation (what a user waits for), it/s once
           running, the ratio to the loop, the compile's break-even N, and whether the two
           default runs stored the same bytes (determinism) and how far the eager run is.
  scaling  it/s and tasks/s at meta-batch 25, 100, 1,000 and 10,000 for each path (CPU: eager,
           compiled; GPU: eager, CUDA graph, compiled + CUDA graph); the largest meta-batch that
           fits (GPU: doubled until out of memory; CPU: from the memory used per task).
  nav      navigation (RL): seconds per meta-iteration of the default MAML config (Adam) and
           with the TRPO outer update (--option trpo_kl=0.01), the extrapolated time of a
           default 300-iteration run, and one rollout batched over goals x trajectories vs one.

Ratios come from measurements interleaved in one run (the development machine's 2 cores are
shared); every rate is the median of --rounds repeats, printed with its spread.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
import torch  # noqa: E402

from maml_viz.engine import stepper  # noqa: E402
from maml_viz.engine import rl
from maml_viz.engine.algorithms import get_algorithm  # noqa: E402
from maml_viz.engine.registry import make_config  # noqa: E402
from maml_viz.engine.tasks import make_family  # noqa: E402
from maml_viz.engine.train import Trainer, device_name  # noqa: E402
from maml_viz.services import bench

T0 = time.perf_counter()


def left(budget):
    return budget - (time.perf_counter() - T0)


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def spread(xs, fmt="{:.0f}"):
    xs = sorted(xs)
    med = statistics.median(xs)
    return med, (fmt.format(med) if len(xs) == 1 else
                 f"{fmt.format(med)} ({fmt.format(xs[0])}-{fmt.format(xs[-1])})")


def loop_rate(device, seconds):
    """The tutorial MAML loop's it/s (one autograd.grad per task) on the default config."""
    cfg, fam, model, alg, params = bench._setup("maml", device)
    opt = torch.optim.Adam(list(params.values()), lr=cfg.outer_lr)
    batches = bench._batches(fam, cfg, 20, device)
    return bench._rate(lambda b: bench.tutorial_maml_step(params, opt, b, cfg), batches, seconds,
                       device)


# ----------------------------------------------------------------------------- e2e
def cli_train(device, extra=(), cache=None, iterations=None):
    """`python -m maml_viz train` in a fresh process; returns what it stored and its wall time."""
    runs = tempfile.mkdtemp(prefix="speed-runs-")
    env = dict(os.environ)
    if cache:
        env["TORCHINDUCTOR_CACHE_DIR"] = cache
    args = [sys.executable, "-m", "maml_viz", "train", "--runs-dir", runs, "--quiet",
            "--device", device, *extra]
    if iterations:
        args += ["--iterations", str(iterations)]
    t = time.perf_counter()
    r = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args[2:])} failed: {r.stderr.strip()[-500:]}")
    path = r.stdout.strip().splitlines()[-1]
    metrics = json.load(open(os.path.join(path, "metrics.json")))
    info = metrics["training"]
    after = {r["step"]: r["mean"] for r in metrics["evaluation"]["results"]}
    rows = list(csv.DictReader(open(os.path.join(path, "history.csv"))))
    half = len(rows) // 2           # the second half's slope: the rate once running
    it0, w0 = int(rows[half]["iteration"]), float(rows[half]["wall_time"])
    it1, w1 = int(rows[-1]["iteration"]), float(rows[-1]["wall_time"])
    from safetensors.torch import load_file
    return {"wall": wall, "train_s": info["train_seconds"], "its": info["iterations_done"],
            "mode": info.get("step", "?"), "steady": (it1 - it0) / max(w1 - w0, 1e-9),
            "quality": f"{after[1]:.3f} / {after[max(after)]:.3f}",
            "params": load_file(os.path.join(path, "meta_params.safetensors")),
            "bytes": open(os.path.join(path, "meta_params.safetensors"), "rb").read(),
            "notes": [line for line in r.stderr.splitlines() if line.startswith("note:")]}


def e2e(device, rounds, quick, budget):
    cpu = torch.device(device).type == "cpu"
    its = stepper.COMPILE_MIN_ITERATIONS if quick else None    # None: the default's 20,000
    cold = tempfile.mkdtemp(prefix="speed-inductor-")
    plan = [("default, empty compile cache", [], cold), ("default, warm cache", [], cold)]
    if cpu:
        plan += [("--no-compile (eager)", ["--no-compile"], cold),
                 ("default, a new graph (--k-query 11) in the used cache", ["--k-query", "11"],
                  cold)]
    else:
        plan += [("--no-cuda-graph (eager)", ["--no-cuda-graph"], cold),
                 ("this machine's CPU, default", ["--device", "cpu"], cold),
                 ("--compile (Inductor + graph)", ["--compile"], cold)]
    print(f"\n## End to end: python -m maml_viz train on {device} (sinusoid MAML, "
          f"{its or 20000} iterations), interleaved with the tutorial loop\n")
    loops, res = [loop_rate(device, 4.0 if not quick else 1.0)], {}
    for name, extra, cache in plan:
        if left(budget) < 60:
            print(f"(skipped {name}: time budget)")
            continue
        n = 3000 if (not cpu and "eager" in name) else its   # eager on a GPU: a shorter run
        res[name] = cli_train(device, extra, cache, n)
        loops.append(loop_rate(device, 4.0 if not quick else 1.0))
    loop, loop_s = spread(loops, "{:.1f}")
    print(f"tutorial loop: {loop_s} it/s over {len(loops)} measurements\n")
    print("| run | path | iterations | process s | train s (incl. compile) | it/s incl. compile "
          "| it/s running | x loop (incl. compile) | x loop (running) | MSE K=10, 1 / 10 steps |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in res.items():
        whole = r["its"] / r["train_s"]
        print(f"| {name} | {r['mode']} | {r['its']} | {r['wall']:.1f} | {r['train_s']:.1f} | "
              f"{whole:.0f} | {r['steady']:.0f} | {whole / loop:.1f}x | {r['steady'] / loop:.1f}x "
              f"| {r['quality']} |")
        for note in r["notes"]:
            print(f"|   {note} |")
    d = [r for k, r in res.items() if k.startswith("default") and "new graph" not in k]
    e = [r for k, r in res.items() if "eager" in k]
    c = [r for k, r in res.items() if "CPU" in k]
    if d and c:
        print(f"\nthis GPU's default training vs this machine's CPU default: "
              f"{(d[-1]['its'] / d[-1]['train_s']) / (c[0]['its'] / c[0]['train_s']):.1f}x "
              f"(it/s including compile/capture)")
    if len(d) == 2:
        same = d[0]["bytes"] == d[1]["bytes"]
        print(f"\ndeterminism: the two default runs stored {'the same' if same else 'DIFFERENT'} "
              f"bytes (meta_params.safetensors)")
    if d and e and d[0]["mode"] != e[0]["mode"]:
        diff = max(((d[0]["params"][k] - e[0]["params"][k]).abs().max() /
                    e[0]["params"][k].abs().max()).item() for k in e[0]["params"])
        if d[0]["its"] == e[0]["its"]:
            print(f"{d[0]['mode']} vs eager after {e[0]['its']} iterations: max relative "
                  f"parameter difference {diff:.1e} (not bit-identical: float32 rounding)")
        # break-even (CPU): compile overhead / time saved per iteration
        new = [r for k, r in res.items() if "new graph" in k]
        for r, label in zip(d + new if cpu else [],
                            ("empty cache", "warm cache", "new graph, used cache")):
            over = r["train_s"] - r["its"] / r["steady"]
            saved = 1 / e[0]["steady"] - 1 / r["steady"]
            if saved > 0:
                print(f"break-even ({label}): compile overhead {over:.1f} s / "
                      f"{saved * 1e3:.2f} ms saved per iteration = {over / saved:.0f} iterations")
    return res, loop


# ----------------------------------------------------------------------------- scaling
def modes(device):
    if torch.device(device).type == "cpu":
        return [("eager", dict(compiled=False)), ("compiled", dict(compiled=True))]
    return [("eager", dict(compiled=False, cuda_graph=False)),
            ("cuda-graph", dict(compiled=False, cuda_graph=True)),
            ("compiled+cuda-graph", dict(compiled=True, cuda_graph=True))]


def trainer_rate(device, mb, seconds, kw):
    """(it/s once running, first-chunk seconds incl. compile/capture, mode) of Trainer.run."""
    tr = Trainer(make_config(meta_batch=mb, iterations=10**7), device, **kw)
    t = time.perf_counter()
    tr.run(5)
    sync(device)
    first = time.perf_counter() - t
    n = 5
    while True:
        t = time.perf_counter()
        tr.run(n)
        sync(device)
        dt = time.perf_counter() - t
        if dt >= seconds or n >= 20000:
            return n / dt, first, tr.mode
        n = min(20000, max(2 * n, int(n * seconds / max(dt, 1e-3))))


def probe_largest(device, start=10000, limit=2**24):
    """GPU: double the meta-batch (beyond the config's 10,000) until one MAML iteration runs out
    of memory; returns (largest that fitted, its it/s, GB used)."""
    cfg = make_config()
    fam, alg = make_family(cfg.family), get_algorithm("maml")
    model = fam.make_model(cfg.hidden)
    gen = torch.Generator(device).manual_seed(0)
    best, mb = None, start
    while mb <= limit:
        try:
            params = {k: v for k, v in alg.init_params(model, cfg, gen).items()}
            opt = alg.make_optimizer(params, cfg)
            b = {k: v[0] for k, v in fam.sample_batches(1, mb, cfg.k_shot, cfg.k_query, gen).items()}
            torch.cuda.reset_peak_memory_stats()
            alg.step(model, fam, params, opt, b, cfg)
            sync(device)
            t = time.perf_counter()
            for _ in range(3):
                alg.step(model, fam, params, opt, b, cfg)
            sync(device)
            best = (mb, 3 / (time.perf_counter() - t), torch.cuda.max_memory_allocated() / 2**30)
            del params, opt, b
        except torch.cuda.OutOfMemoryError:
            break
        finally:
            torch.cuda.empty_cache()
        mb *= 2
    return best


def scaling(device, quick, budget, sizes=(25, 100, 1000, 10000)):
    seconds = 0.5 if quick else 2.0
    print(f"\n## Meta-batch scaling on {device_name(torch.device(device))} (sinusoid MAML, K=10, "
          f"40-40 MLP; Trainer.run: sampling, step, Adam, logging)\n")
    print("| meta-batch | path | it/s | tasks/s | first chunk s (compile/capture) |")
    print("|---|---|---|---|---|")
    for mb in sizes:
        for name, kw in modes(device):
            if name == "compiled+cuda-graph" and mb not in (25, 1000):
                continue                    # a compile per shape: two shapes fit the GPU budget
            if left(budget) < 20:
                print(f"| {mb} | {name} | (skipped: time budget) | | |")
                continue
            rate, first, mode = trainer_rate(device, mb, seconds, kw)
            print(f"| {mb:,} | {mode} | {rate:,.1f} | {rate * mb:,.0f} | {first:.1f} |", flush=True)
    if torch.device(device).type == "cuda":
        if left(budget) > 30:
            best = probe_largest(device)
            if best:
                print(f"\nlargest meta-batch that fits: {best[0]:,} tasks (one MAML iteration, eager, "
                      f"{best[2]:.1f} GB peak, {best[1]:.2f} it/s = {best[0] * best[1]:,.0f} tasks/s); "
                      f"the next doubling ran out of memory")
    else:
        peak = {mb: peak_rss(mb) for mb in (25, 10000)}
        per = max(peak[10000] - peak[25], 1) / (10000 - 25)
        avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        print(f"\nmemory: {per / 1024:.0f} KB per task at peak (peak RSS of one process training "
              f"meta-batch 10,000: {peak[10000] / 2**20:.0f} MB, 25: {peak[25] / 2**20:.0f} MB); "
              f"the {avail / 2**30:.1f} GB free here would hold about {avail / per:,.0f} tasks "
              f"(the config allows up to 10,000)")


def peak_rss(mb) -> int:
    """Peak resident bytes of a fresh process that trains 3 iterations at meta-batch mb."""
    code = ("import torch; from maml_viz.engine.registry import make_config; "
            "from maml_viz.engine.train import Trainer; torch.set_num_threads(1); "
            f"Trainer(make_config(meta_batch={mb}, iterations=3), 'cpu').run(3); "
            "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    return int(r.stdout.strip().splitlines()[-1]) * 1024          # (ru_maxrss is inherited)


# ----------------------------------------------------------------------------- navigation
def nav(device, quick, budget, rounds):
    print(f"\n## Navigation (RL) on {device_name(torch.device(device))}\n")
    base = make_config(family="navigation")
    trs = {"Adam (default)": Trainer(base, device),
           "TRPO (trpo_kl=0.01)": Trainer(make_config(family="navigation",
                                                      family_options={"trpo_kl": 0.01}), device)}
    secs = {k: [] for k in trs}
    for tr in trs.values():
        tr.run(1)                                 # warm-up
    for _ in range(1 if quick else rounds):
        for k, tr in trs.items():
            if left(budget) < 30:
                break
            t = time.perf_counter()
            tr.run(1)
            sync(device)
            secs[k].append(time.perf_counter() - t)
    print("| outer update | s per meta-iteration | 300 iterations (extrapolated) |")
    print("|---|---|---|")
    for k, v in secs.items():
        if v:
            med, s = spread(v, "{:.2f}")
            print(f"| {k} | {s} | {med * base.iterations / 60:.1f} min |")
    tr = trs["Adam (default)"]
    fam, pol = tr.family, tr.model
    p = {k: v.detach() for k, v in tr.params.items()}
    out = []
    for goals, n in ((20, 40), (1, 1)):
        g = fam.sample_tasks(goals, tr.task_gen)
        rl.rollout(pol, p, g, n, fam, tr.task_gen)
        sync(device)
        t = time.perf_counter()
        rl.rollout(pol, p, g, n, fam, tr.task_gen)
        sync(device)
        out.append(time.perf_counter() - t)
    print(f"\none rollout of 20 goals x 40 trajectories x 100 steps: {out[0] * 1e3:.0f} ms; of 1 x 1: "
          f"{out[1] * 1e3:.0f} ms ({out[0] / out[1]:.1f}x the time for 800x the trajectories: the "
          f"environment is batched over goals x trajectories, time is the only loop)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--sections", default="e2e,scaling,nav")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    ap.add_argument("--budget", type=float, default=1e9, help="seconds; later measurements are "
                    "skipped when it runs out")
    a = ap.parse_args()
    if torch.device(a.device).type == "cpu":
        torch.set_num_threads(1)
    print(f"# maml-viz speed, {device_name(torch.device(a.device))}, torch {torch.__version__}, "
          f"{os.cpu_count()} CPU cores, {time.strftime('%Y-%m-%d %H:%M')}, load average "
          f"{os.getloadavg()[0]:.1f}")
    for s in a.sections.split(","):
        {"e2e": lambda: e2e(a.device, a.rounds, a.quick, a.budget),
         "scaling": lambda: scaling(a.device, a.quick, a.budget),
         "nav": lambda: nav(a.device, a.quick, a.budget, a.rounds)}[s.strip()]()
    print(f"\n(total {time.perf_counter() - T0:.0f} s)")


if __name__ == "__main__":
    main()
