"""Seed sweeps on Ray (maml_viz.services.sweep, `python -m maml_viz sweep`).

Every Ray process here stays on loopback: nodes start with node_ip_address="127.0.0.1" and the
driver runs with RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (set below, before Ray is imported), and
every cluster is shut down in a `finally`.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import pytest  # noqa: E402

from maml_viz import cli  # noqa: E402
from maml_viz.engine.config import ConfigError  # noqa: E402
from maml_viz.engine.registry import make_config  # noqa: E402
from maml_viz.services.sweep import expand, parse_grid, parse_seeds  # noqa: E402
from maml_viz.runs.summary import evaluated_k, k_label  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------------ pure parts (no Ray)
def test_sweep_arguments_expand_and_bad_input_names_the_flag(capsys):
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4] and parse_seeds("0-1,7") == [0, 1, 7]
    assert parse_grid("inner_lr=0.005,0.01") == ("inner_lr", [0.005, 0.01])
    cfgs = expand("sinusoid", ["maml", "reptile"], [0, 1], iterations=30,
                  grid=[parse_grid("inner_lr=0.005,0.01")])
    assert len(cfgs) == 8 and len({c.key() for c in cfgs}) == 8
    assert {c.iterations for c in cfgs} == {30} and {c.inner_lr for c in cfgs} == {0.005, 0.01}
    assert {c.inner_steps for c in cfgs if c.algo == "reptile"} == {5}   # its own defaults stay
    opt = expand("blobs", ["maml"], [0], grid=[parse_grid("n_way=3")])
    assert opt[0].family_options["n_way"] == 3
    assert {c.algo for c in expand("navigation", ["all"], [0])} >= {"maml", "oracle"}
    for bad in ("4-1", "a", ""):
        with pytest.raises(ConfigError):
            parse_seeds(bad)
    for args, flag in [(["--seeds", "x"], "--seeds"), (["--algos", "nope"], "--algo"),
                       (["--grid", "seed=1,2"], "--grid"), (["--grid", "inner_lr=a"], "--grid"),
                       (["--address", "nohost"], "--address"),
                       (["--address", "127.0.0.1:1"], "no Ray cluster answers"),
                       (["--cpus-per-trial", "0"], "--cpus-per-trial")]:
        capsys.readouterr()
        rc = cli.main(["sweep", "--iterations", "5", "--runs-dir", "/nonexistent/x", *args])
        err = capsys.readouterr().err
        assert rc == 2 and flag in err.splitlines()[-1] and "Traceback" not in err, (args, err)


def test_summary_k_is_the_runs_own_or_says_what_the_protocol_counts():
    sine = make_config(family="sinusoid", algo="maml", iterations=5)
    assert evaluated_k(sine, [5, 10, 5]) == 10 == sine.k_shot
    assert k_label(sine, {"k_shot": [5, 10], "query_points": 100}) == "K = 10"
    nav = make_config(family="navigation", algo="maml", iterations=5)
    proto = {"k_shot": [40], "query_points": "40 trajectories per goal"}
    assert nav.k_shot == 20 and evaluated_k(nav, [40]) == 40
    assert k_label(nav, proto) == "K = 40 trajectories per goal at each step (trained with 20)"


def test_trials_take_the_path_train_takes_here_decided_by_the_driver(tmp_path, monkeypatch):
    """Compiled and eager steps differ in the last bits, so a trial must run the step `train`
    would run on the driver: sweep.cpu_path is the Trainer's rule, and train_trial follows the
    path it is given whatever the worker's own rule says."""
    import torch

    from maml_viz.engine import stepper
    from maml_viz.engine.train import Trainer
    from maml_viz.runs.saving import save_run
    from maml_viz.services.sweep import cpu_path, run_from_payload, train_trial

    cpu = torch.device("cpu")
    cfgs = [make_config(family="linear", algo="maml", iterations=30),
            make_config(family="sinusoid", algo="fomaml", iterations=20000),
            make_config(family="sinusoid", algo="scratch"),
            make_config(family="navigation", algo="maml", iterations=2)]
    for low in (False, True):          # the default thresholds, then every run "long enough"
        if low:
            monkeypatch.setattr(stepper, "COMPILE_MIN_ITERATIONS", {"warm": 10, "cold": 10})
        for cfg in cfgs:
            mode = Trainer(cfg, cpu).mode
            want = None if cfg.algo == "scratch" or cfg.family == "navigation" else (
                mode.startswith("compiled"))
            assert cpu_path(cfg) == want, (low, cfg.family, cfg.algo, mode)
    assert cpu_path(cfgs[0]) is stepper.has_c_compiler()   # long enough now: compiled if it can
    # the driver says eager: the trial runs eagerly although this machine's rule says compile,
    # and gives the bytes of `train --no-compile`
    ref = sequential(tmp_path, "maml", 0, 30, "linear", "--no-compile")
    payload = train_trial(cfgs[0].to_dict(), 1, compiled=False)
    assert payload["info"]["step"] == "eager"
    save_run(run_from_payload(payload), tmp_path / "trial")
    assert stored(tmp_path / "trial", "maml", 0, 30) == ref


# ------------------------------------------------------------------ helpers
def sequential(tmp_path, algo, seed, iterations, family="linear", *extra) -> bytes:
    """The reference: an ordinary `python -m maml_viz train` of the config, on the CPU."""
    runs = tmp_path / "sequential"
    assert cli.main(["train", "--family", family, "--algo", algo, "--seed", str(seed),
                     "--iterations", str(iterations), "--device", "cpu", "--runs-dir", str(runs),
                     "--quiet", *extra]) == 0
    cfg = make_config(family=family, algo=algo, seed=seed, iterations=iterations)
    return (runs / cfg.key() / "meta_params.safetensors").read_bytes()


def stored(runs, algo, seed, iterations, family="linear") -> bytes:
    cfg = make_config(family=family, algo=algo, seed=seed, iterations=iterations)
    return (runs / cfg.key() / "meta_params.safetensors").read_bytes()


def m_seq(tmp_path, key) -> dict:
    return json.loads((tmp_path / "sequential" / key / "metrics.json").read_text())["evaluation"]


def leftovers(runs) -> list:
    """Anything in the runs directory that is not a complete run (temporary or half-written)."""
    return [p.name for p in runs.iterdir()
            if p.name.startswith(".") or not (p / "metrics.json").is_file()]


def trial_processes() -> list:
    """Ray workers of THIS test process (descendants of it) that are training a trial now."""
    me, out = os.getpid(), []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if not f.read().startswith(b"ray::train_trial"):
                    continue
        except OSError:
            continue
        pid = int(d)
        while pid > 1:                       # walk up: is this test process an ancestor?
            try:
                with open(f"/proc/{pid}/stat") as f:
                    pid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                break
            if pid == me:
                out.append(int(d))
                break
    return out


# ------------------------------------------------------------------ Ray: local, cluster, faults
def test_local_sweep_gives_the_sequential_bytes_and_resumes(tmp_path, capsys):
    runs = tmp_path / "runs"
    it = 50
    refs = {(a, s): sequential(tmp_path, a, s, it) for a in ("maml", "fomaml") for s in (0, 1)}
    # one config is already stored (copied from the sequential run, then marked): the sweep
    # must skip it, not retrain or overwrite it
    pre = make_config(family="linear", algo="fomaml", seed=1, iterations=it).key()
    shutil.copytree(tmp_path / "sequential" / pre, runs / pre)
    metrics = runs / pre / "metrics.json"
    metrics.write_text(metrics.read_text().replace('"training": {', '"training": {"marker": 1, ', 1))
    before = metrics.read_text()
    # another is stored with an evaluation from an older protocol: evaluated again, not trained
    old = make_config(family="linear", algo="maml", seed=1, iterations=it).key()
    shutil.copytree(tmp_path / "sequential" / old, runs / old)
    m = json.loads((runs / old / "metrics.json").read_text())
    del m["evaluation"]["protocol"]["version"]
    m["training"]["marker"] = 2
    (runs / old / "metrics.json").write_text(json.dumps(m))
    capsys.readouterr()
    rc = cli.main(["sweep", "--family", "linear", "--algos", "maml,fomaml", "--seeds", "0-1",
                   "--iterations", str(it), "--runs-dir", str(runs), "--quiet"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "2 trained, 1 already stored (1 more evaluated again" in err and "0 failed" in err
    for (a, s), ref in refs.items():
        assert stored(runs, a, s, it) == ref, (a, s)        # the same bytes as `train`
    assert metrics.read_text() == before                      # the stored run was left alone
    again = json.loads((runs / old / "metrics.json").read_text())
    assert again["training"]["marker"] == 2                   # same run, new evaluation
    assert again["evaluation"] == m_seq(tmp_path, old)
    assert not leftovers(runs)
    # the summary: one row per algorithm, 2 seeds, mean ± between-seed interval per step
    lines = out.strip().splitlines()
    assert "t-interval over training seeds" in lines[0] and "step 10" in lines[1]
    assert [ln.split()[:2] for ln in lines[2:4]] == [["maml", "2"], ["fomaml", "2"]]
    assert "±" in lines[2]
    assert "interquartile mean" in lines[4] and "n/a (< 3 seeds)" in lines[6]   # 2 seeds only


@pytest.fixture(scope="module")
def cluster():
    """A real 2-node Ray cluster on this machine: a head and a worker node, each its own raylet
    with one CPU, both on 127.0.0.1. Yields its address."""
    import ray
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False})
    try:
        c.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        c.wait_for_nodes()
        assert c.address.startswith("127.0.0.1:")
        yield c.address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        c.shutdown()


def test_two_node_cluster_through_address_gives_the_sequential_bytes(cluster, tmp_path, capsys):
    runs, it = tmp_path / "runs", 30
    refs = {s: sequential(tmp_path, "maml", s, it) for s in (0, 1)}
    capsys.readouterr()
    rc = cli.main(["sweep", "--family", "linear", "--algos", "maml", "--seeds", "0-1",
                   "--iterations", str(it), "--runs-dir", str(runs), "--address", cluster,
                   "--quiet"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "2 trained" in err and "on 2 nodes" in err        # one trial on each raylet
    for s, ref in refs.items():
        assert stored(runs, "maml", s, it) == ref
    assert not leftovers(runs)


def test_a_trial_killed_midway_is_retried_and_nothing_half_written(cluster, tmp_path, capsys,
                                                                   monkeypatch):
    # Deterministic whatever the machine's speed: the first attempt of the trial announces its pid
    # after its first chunk and waits (sweep.HOLD_ENV); the test kills it there. Both sides pinned
    # to the eager step (the test is about the retry, not the path).
    from maml_viz.services import sweep

    runs, it, hold = tmp_path / "runs", 600, tmp_path / "hold"
    hold.mkdir()
    ref = sequential(tmp_path, "maml", 3, it, "linear", "--no-compile")
    monkeypatch.setenv(sweep.HOLD_ENV, str(hold))
    killed = []

    def killer():   # SIGKILL the worker as soon as it says it is midway
        deadline = time.time() + 240
        while not killed and time.time() < deadline:
            for f in hold.iterdir():
                if f.suffix != ".tmp":
                    pid = int(f.name)
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
            time.sleep(0.05)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    capsys.readouterr()
    rc = cli.main(["sweep", "--family", "linear", "--algos", "maml", "--seeds", "3",
                   "--iterations", str(it), "--runs-dir", str(runs), "--address", cluster,
                   "--quiet", "--no-compile"])
    err = capsys.readouterr().err
    t.join(5)
    assert killed, "the trial never reached its hold point"
    assert rc == 0, err
    assert "trial failed, retrying" in err and "algo=maml" in err and "seed=3" in err
    assert "1 trained" in err and "1 retried" in err
    assert stored(runs, "maml", 3, it) == ref
    assert not leftovers(runs)
    assert [f.name for f in hold.iterdir()] == [str(killed[0])]    # the retry did not hold


def test_ctrl_c_cancels_cleanly_with_exit_130(cluster, tmp_path):
    runs = tmp_path / "runs"
    p = subprocess.Popen([sys.executable, "-m", "maml_viz", "sweep", "--family", "linear",
                          "--algos", "maml", "--seeds", "0-1", "--iterations", "1000000",
                          "--runs-dir", str(runs), "--address", cluster, "--quiet",
                          "--no-compile"],
                         cwd=ROOT, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        deadline, workers = time.time() + 120, []
        while time.time() < deadline and p.poll() is None and len(workers) < 2:
            workers = trial_processes()         # the cluster's workers are ours: see above
            time.sleep(0.2)
        assert len(workers) == 2, "the trials did not start"
        p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=60)[1]
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not runs.exists() or not any(runs.iterdir())        # nothing written, nothing half
    deadline = time.time() + 20
    while time.time() < deadline and any(os.path.exists(f"/proc/{w}") for w in workers):
        time.sleep(0.2)
    assert not [w for w in workers if os.path.exists(f"/proc/{w}")]   # the trials were stopped
