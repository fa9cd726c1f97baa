"""Fault injection (issue 11): every way a run's files can be damaged, folders that are not runs,
concurrent writers, writers killed mid-save, Ctrl-C in the CLI, out-of-range arguments, malformed
uploads in every encoding, and jobs that must obey Stop. Each case must end with a clear message
(no traceback) and lose or delete nothing it shouldn't."""
import json
import multiprocessing as mp
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from maml_viz import cli
from maml_viz.engine.registry import make_config
from maml_viz.engine.tasks import make_family
from maml_viz.engine.train import train
from maml_viz.runs.evaluate import evaluate, to_json
from maml_viz.runs.files import StoreError, check_run, load_run
from maml_viz.runs.saving import recover, save
from maml_viz.runs.store import RunStore
from maml_viz.services import jobs as jobs_mod
from maml_viz.services.child import SNAPSHOT_EVERY
from maml_viz.services.jobs import JobManager, JobRefused
from maml_viz.views import uploads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CFG = dict(family="linear", algo="maml", iterations=20)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A small healthy evaluated run, saved once: (run, its folder in a 'bundled' root)."""
    run = train(make_config(**CFG), "cpu")
    run.metrics = to_json(evaluate(run, steps=2, n_tasks=20))
    root = tmp_path_factory.mktemp("bundled")
    return run, save(run, root).path


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """An untrained run of a large network (for evaluations that cannot fit in memory)."""
    from maml_viz.engine.train import Trainer
    run = Trainer(make_config(family="sinusoid", algo="scratch", hidden=(2048, 2048)), "cpu").result()
    return save(run, tmp_path_factory.mktemp("big")).path


def copy_run(src: Path, root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copytree(src, root / src.name))


# ============================================================================ damaged runs
def _tensors(path, make):
    save_file(make(), str(path / "meta_params.safetensors"))


DAMAGE = {
    "config-missing": lambda p: (p / "config.json").unlink(),
    "config-empty": lambda p: (p / "config.json").write_bytes(b""),
    "config-garbage": lambda p: (p / "config.json").write_bytes(os.urandom(300)),
    "config-not-json": lambda p: (p / "config.json").write_text("{family: linear"),
    "config-a-list": lambda p: (p / "config.json").write_text("[1, 2]"),
    "config-foreign": lambda p: (p / "config.json").write_text('{"model": "resnet", "lr": 1}'),
    "config-bad-value": lambda p: (p / "config.json").write_text(json.dumps(
        {**json.loads((p / "config.json").read_text()), "k_shot": -3})),
    "config-edited": lambda p: (p / "config.json").write_text(json.dumps(
        {**json.loads((p / "config.json").read_text()), "seed": 7})),
    "params-missing": lambda p: (p / "meta_params.safetensors").unlink(),
    "params-empty": lambda p: (p / "meta_params.safetensors").write_bytes(b""),
    "params-truncated": lambda p: (p / "meta_params.safetensors").write_bytes(
        (p / "meta_params.safetensors").read_bytes()[:60]),
    "params-random": lambda p: (p / "meta_params.safetensors").write_bytes(os.urandom(2000)),
    "params-huge-header": lambda p: (p / "meta_params.safetensors").write_bytes(
        struct.pack("<Q", 2**60) + b"{}"),
    "params-wrong-names": lambda p: _tensors(p, lambda: {"w": torch.zeros(1, 1)}),
    "params-wrong-shape": lambda p: _tensors(p, lambda: {"l0.w": torch.zeros(3, 3),
                                                         "l0.b": torch.zeros(1)}),
    "params-float64": lambda p: _tensors(p, lambda: {"l0.w": torch.zeros(1, 1, dtype=torch.float64),
                                                     "l0.b": torch.zeros(1, dtype=torch.float64)}),
    "params-int": lambda p: _tensors(p, lambda: {"l0.w": torch.zeros(1, 1, dtype=torch.int32),
                                                 "l0.b": torch.zeros(1, dtype=torch.int32)}),
    "params-nan": lambda p: _tensors(p, lambda: {"l0.w": torch.full((1, 1), float("nan")),
                                                 "l0.b": torch.zeros(1)}),
    "params-inf": lambda p: _tensors(p, lambda: {"l0.w": torch.zeros(1, 1),
                                                 "l0.b": torch.full((1,), float("inf"))}),
    "history-missing": lambda p: (p / "history.csv").unlink(),
    "history-empty": lambda p: (p / "history.csv").write_text(""),
    "history-header": lambda p: (p / "history.csv").write_text("a,b,c\n1,2,3\n"),
    "history-not-number": lambda p: (p / "history.csv").write_text(
        "iteration,meta_loss,wall_time\n10,abc,0.1\n"),
    "history-ragged": lambda p: (p / "history.csv").write_text(
        "iteration,meta_loss,wall_time\n10,0.5\n"),
    "history-binary": lambda p: (p / "history.csv").write_bytes(b"\xff\xfe\x00\x01" * 50),
    "metrics-missing": lambda p: (p / "metrics.json").unlink(),
    "metrics-not-json": lambda p: (p / "metrics.json").write_text("{oops"),
    "metrics-training-string": lambda p: (p / "metrics.json").write_text(
        '{"training": "x", "evaluation": null}'),
    "metrics-a-list": lambda p: (p / "metrics.json").write_text("[]"),
    "metrics-results-malformed": lambda p: (p / "metrics.json").write_text(
        '{"training": {}, "evaluation": {"protocol": {}, "results": [{"step": "one"}]}}'),
    "metrics-iterations-string": lambda p: (p / "metrics.json").write_text(
        '{"training": {"iterations_done": "many"}, "evaluation": null}'),
    # issue 26, item 5: these passed `runs` as OK, then crashed Compare and `sweep`
    "metrics-results-empty": lambda p: _evaluation(p, lambda ev: ev.update(results=[])),
    "metrics-version-string": lambda p: _evaluation(p, lambda ev: ev["protocol"].update(
        version="3")),
    "metrics-protocol-k-only": lambda p: _evaluation(p, lambda ev: ev.update(
        protocol={"k_shot": 10})),
    "metrics-results-missing-step": lambda p: _evaluation(p, lambda ev: ev.update(
        results=ev["results"][:-1])),
    "metrics-results-k-not-evaluated": lambda p: _evaluation(p, lambda ev: [
        r.update(k_shot=r["k_shot"] + 1) for r in ev["results"]]),
}


def _evaluation(path, edit):
    m = json.loads((path / "metrics.json").read_text())
    edit(m["evaluation"])
    (path / "metrics.json").write_text(json.dumps(m))


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_run_is_reported_never_shadows_the_bundled_one_and_is_replaced(
        tmp_path, good, damage):
    run, bundled = good
    user = copy_run(bundled, tmp_path / "user")
    DAMAGE[damage](user)
    culprit = damage.split("-")[0].replace("params", "meta_params.safetensors").replace(
        "config", "config.json").replace("history", "history.csv").replace("metrics", "metrics.json")
    # health: named file, no advice to delete anything
    why = check_run(user)
    assert why and culprit in why, why
    with pytest.raises(StoreError) as e:
        load_run(user)
    assert culprit in str(e.value) and "delete" not in str(e.value).lower()
    # a listing never crashes and says why
    store = RunStore([tmp_path / "user", bundled.parent])
    entries = store.list()
    mine = [x for x in entries if not x["read_only"]]
    assert len(mine) == 1 and mine[0]["error"] and culprit in mine[0]["error"]
    assert any(x["read_only"] and x["error"] is None for x in entries)
    # the healthy bundled copy is used, not the damaged one
    got = store.get(run.config)
    assert got is not None and Path(got.path) == bundled
    # the CLI lists it as damaged, in one line, without a traceback
    code, out = run_cli("runs", "--runs-dir", str(tmp_path / "user"))
    assert code == 0 and "DAMAGED" in out and "Traceback" not in out
    # training that config again replaces it, saying so; the damaged copy goes to the trash
    if damage != "config-edited":               # (that folder belongs to another config)
        back, saved = store.save(run)
        assert saved.action == "replaced" and "damaged" in saved.note
        assert check_run(user) is None and len(store.trash()) == 1
        assert Path(store.get(run.config).path) == user
    else:
        assert "does not match its folder" in why


def test_folders_that_are_not_runs_are_never_listed_or_deleted(tmp_path, good):
    run, bundled = good
    root = tmp_path / "runs"
    real = copy_run(bundled, root)
    docs = root / "Documents"
    docs.mkdir()
    (docs / "letter.txt").write_text("keep me")
    mixed = copy_run(bundled, tmp_path / "other")                    # a run folder holding a
    (mixed / "notes.txt").write_text("mine")                         # user's file too
    mixed = Path(shutil.move(str(mixed), root / ("linear-maml-" + "0" * 12)))
    (root / ("linear-fomaml-" + "1" * 12)).write_text("a file named like a run")
    os.symlink(real, root / ("linear-anil-" + "2" * 12))
    store = RunStore(root)
    assert [e["key"] for e in store.list()] == [real.name]
    assert set(store.foreign()) == {"Documents", mixed.name, "linear-fomaml-" + "1" * 12,
                                    "linear-anil-" + "2" * 12}
    for name in ("Documents", mixed.name, "linear-anil-" + "2" * 12, "../runs", "", "."):
        assert not store.deletable(name)
        with pytest.raises(StoreError, match="nothing was deleted"):
            store.delete(name)
    assert (docs / "letter.txt").read_text() == "keep me" and (mixed / "notes.txt").exists()
    code, out = run_cli("runs", "--runs-dir", str(root))
    assert "left alone" in out and "Documents" in out
    # a real run goes to the trash, can be restored, and old trash is emptied
    entry = store.delete(real.name)
    assert not real.exists() and entry.is_dir() and store.get(run.config) is None
    assert store.restore(entry.name) == real and check_run(real) is None
    entry = store.delete(real.name)
    assert recover(root, now=time.time() + 8 * 86400)
    assert not entry.exists() and (docs / "letter.txt").exists()


def test_evaluate_and_runs_report_an_edited_config_and_never_suggest_deleting(tmp_path, good):
    _, bundled = good
    user = copy_run(bundled, tmp_path / "user")
    DAMAGE["config-edited"](user)
    code, err = run_cli("evaluate", str(user))
    assert code == 2 and "does not match its folder" in err and "delete" not in err.lower()
    code, err = run_cli("evaluate", "/etc")
    assert code == 2 and "not a maml-viz run folder" in err and "delete" not in err.lower()


# ============================================================================ concurrent writers
def _writer(args):
    root, src, barrier, partial_ranks = args
    from maml_viz.runs.files import load_run
    from maml_viz.runs.saving import save
    run = load_run(src)
    barrier.wait(timeout=60)
    actions = []
    for done in partial_ranks or [None]:
        if done is not None:                      # a partial copy of the same config
            run.info = dict(run.info, partial=done < 20, iterations_done=done)
        actions.append(save(run, root).action)
    return actions


def _pool(n):
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["maml_viz.runs.saving"])
    return ctx, ctx.Pool(n)


@pytest.mark.parametrize("existing", ["none", "damaged"])
def test_eight_processes_saving_one_run_at_once_one_wins_the_others_reuse_it(
        tmp_path, good, existing):
    run, bundled = good
    root = tmp_path / "runs"
    if existing == "damaged":
        DAMAGE["params-random"](copy_run(bundled, root))
    ctx, pool = _pool(8)
    with pool:
        barrier = ctx.Manager().Barrier(8)
        results = pool.map(_writer, [(str(root), str(bundled), barrier, None)] * 8)
    actions = sorted(a for r in results for a in r)
    first = "saved" if existing == "none" else "replaced"
    assert actions == sorted([first] + ["reused"] * 7), actions
    assert sorted(os.listdir(root)) == sorted([bundled.name] + ([".trash"] if existing != "none"
                                                                else []))
    assert check_run(root / bundled.name) is None
    back = load_run(root / bundled.name)
    assert all(torch.equal(back.params[k], run.params[k]) for k in run.params)


def test_many_writers_racing_partial_and_finished_copies_leave_one_healthy_finished_run(
        tmp_path, good):
    _, bundled = good
    root = tmp_path / "runs"
    rng = np.random.default_rng(0)
    plans = [[int(v) for v in rng.integers(1, 21, size=6)] + [20] for _ in range(8)]
    ctx, pool = _pool(8)
    with pool:
        barrier = ctx.Manager().Barrier(8)
        results = pool.map(_writer, [(str(root), str(bundled), barrier, p) for p in plans])
    assert all(a in ("saved", "reused", "replaced") for r in results for a in r)
    assert os.listdir(root) == [bundled.name]               # no .tmp-*, no .old-* debris
    stored = load_run(root / bundled.name)
    assert not stored.info["partial"] and stored.info["iterations_done"] == 20


KILLED_WRITER = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
import maml_viz.runs.saving as s
from maml_viz.runs.files import load_run
from maml_viz.runs.saving import save
mode, root, src, marker = sys.argv[2:6]
run = load_run(src)
if mode == "writing":                       # die while the files are being written
    real = s.save_file
    def slow(*a, **k):
        real(*a, **k); open(marker, "w").close(); time.sleep(60)
    s.save_file = slow
else:                                        # die between moving the old copy away and the new in
    s._exchange = lambda a, b: False
    real_rename = os.rename
    def rename(a, b):
        real_rename(a, b)
        if str(a).endswith(os.path.basename(src)) and ".tmp-" not in str(a):
            open(marker, "w").close(); time.sleep(60)
    s.os.rename = rename
    run.info = dict(run.info, iterations_done=run.info["iterations_done"] + 1)
save(run, root)
"""


@pytest.mark.parametrize("mode", ["writing", "replacing"])
def test_a_writer_killed_mid_save_leaves_nothing_behind_after_the_next_start(tmp_path, good, mode):
    run, bundled = good
    root, marker = tmp_path / "runs", tmp_path / "marker"
    if mode == "replacing":
        old = copy_run(bundled, root)
        DAMAGE["params-nan"](old)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, ROOT, mode, str(root),
                             str(bundled), str(marker)])
    try:
        t0 = time.time()
        while not marker.exists():
            assert proc.poll() is None and time.time() - t0 < 60, "the writer did not get there"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    assert any(p.startswith(".tmp-") for p in os.listdir(root))          # killed mid-save
    store = RunStore(root)                                             # the next start
    assert store.recovered
    assert not [p for p in os.listdir(root) if p.startswith((".tmp-", ".old-"))]
    final = root / bundled.name
    if mode == "writing":
        assert not final.exists()              # nothing half-written is ever a run
        assert store.save(run)[1].action == "saved"
    else:                                      # the whole new copy was put in place
        assert check_run(final) is None and load_run(final).info["iterations_done"] == 21
    assert check_run(final) is None


# ============================================================================ the CLI
def run_cli(*args):
    """cli.main in this process: (exit code, what it printed)."""
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(args))
        except SystemExit as e:
            code = e.code
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("args,names", [
    (["train", "--threads", "-1"], "--threads"),
    (["train", "--threads", "100000"], "--threads"),
    (["train", "--meta-batch", "10000", "--k-query", "10000"], "memory"),
    (["train", "--hidden", "4096,4096,4096", "--meta-batch", "1000", "--k-query", "1000"], "memory"),
    (["train", "--eval-tasks", "0"], "--eval-tasks"),
    (["train", "--eval-tasks", "1000000000"], "--eval-tasks"),
    (["train", "--iterations", "-5"], "--iterations"),
    (["train", "--inner-lr", "nan"], "--inner-lr"),
    (["train", "--seed", "-1"], "--seed"),
    (["train", "--option", "n_way=1000", "--family", "blobs"], "n_way"),
    (["evaluate", "RUN", "--k-shot", "100000000"], "--k-shot"),
    (["evaluate", "RUN", "--tasks", "1000000000"], "--tasks"),
    (["evaluate", "RUN", "--steps", "100000000"], "--steps"),
    (["evaluate", "RUN", "--steps", "-1"], "--steps"),
    (["evaluate", "RUN", "--seed", "-4"], "--seed"),
    (["evaluate", "BIG", "--steps", "1000", "--tasks", "100000"], "memory"),
    (["bench", "--seconds", "-1"], "--seconds"),
    (["train", "--nope"], "python -m maml_viz train --help"),
    (["evaluate", "RUN", "--nope"], "python -m maml_viz evaluate --help"),
])
def test_cli_out_of_range_arguments_exit_2_with_one_line(args, names, good, big, tmp_path):
    args = [str(good[1]) if a == "RUN" else str(big) if a == "BIG" else a for a in args] + (
        ["--runs-dir", str(tmp_path)] if args[0] == "train" else [])
    code, out = run_cli(*args)
    assert code == 2, out
    assert names in out and "Traceback" not in out and len(out.strip().splitlines()) == 1, out
    assert not [p for p in os.listdir(tmp_path) if not p.startswith(".")]


def _interrupt(args, wait_for: str, after: float = 0.3, preexec_fn=None):
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1")
    p = subprocess.Popen([sys.executable, "-m", "maml_viz", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env, preexec_fn=preexec_fn)
    seen, t0 = "", time.time()
    while wait_for not in seen and time.time() - t0 < 120:
        ch = p.stderr.read(1)
        if not ch:
            break
        seen += ch
    time.sleep(after)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    return p.returncode, out, seen + err


def test_ctrl_c_during_training_and_evaluation_exits_130_and_keeps_a_finished_training(tmp_path):
    runs = tmp_path / "runs"
    code, out, err = _interrupt(["train", "--iterations", "1000000", "--runs-dir", str(runs)], "it/s")
    assert code == 130 and "Traceback" not in err and "nothing was saved" in err.splitlines()[-1]
    assert not runs.exists() or not os.listdir(runs)
    args = ["train", "--family", "linear", "--iterations", "30", "--runs-dir", str(runs),
            "--eval-tasks", "100000", "--quiet"]
    code, out, err = _interrupt(args, "evaluating")
    assert code == 130 and "Traceback" not in err
    assert "saved at" in err.splitlines()[-1]
    (run_dir,) = [runs / p for p in os.listdir(runs)]
    assert check_run(run_dir) is None and load_run(run_dir).metrics is None
    # SIGINT once its progress bar is up (evaluate is running: no race with start-up under load)
    code, out, err = _interrupt(["evaluate", str(run_dir), "--tasks", "100000", "--steps", "1000"],
                                "evaluating", after=0.5)
    assert code == 130 and err.strip().splitlines()[-1] == "interrupted" and "Traceback" not in err
    code, out = run_cli("train", "--family", "linear", "--iterations", "30", "--runs-dir",
                        str(runs), "--eval-tasks", "20", "--quiet")
    assert code == 0 and "evaluating it" in out and load_run(run_dir).metrics is not None


# ============================================================================ uploads
TEXT = "x,y\n1.5,0.25\n-2,1\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
                                      "utf-32", "latin-1"])
def test_uploads_decode_every_encoding_and_report_bad_cells_in_plain_words(encoding):
    fam = make_family("sinusoid")
    ok = uploads.parse_upload(TEXT.encode(encoding), fam)
    assert ok.x.ravel().tolist() == [1.5, -2.0] and ok.y.tolist() == [0.25, 1.0]
    named = uploads.parse_upload("x,y,note\n1,2,café\n".encode(encoding), fam)
    assert named.y.tolist() == [2.0]
    for body, words in [("x,y\n1,nan\n", "NaN, 'not a number'"), ("x,y\n1,inf\n", "infinity"),
                        ("x,y\n1,-Infinity\n", "minus infinity"), ("x,y\n1,\n", "empty"),
                        ("x,y\n1,abc\n", "'abc' is not a number"), ("x,y\n1000,1\n", "[−5, 5]"),
                        ("x,y\n1,1e30\n", "far outside"), ("x,y\n1,-1e30\n", "far outside"),
                        ("a,b\n1,2\n", "missing column"), ("x,y\n1,2,3\n", "line 2 has 3 values"),
                        ("", "empty")]:
        with pytest.raises(uploads.UploadError) as e:
            uploads.parse_upload(body.encode(encoding), fam)
        msg = str(e.value)
        assert words in msg and "np.float64" not in msg and "step size" not in msg, (body, msg)


def test_uploads_refuse_binary_files_too_many_rows_and_wrong_labels():
    fam, blobs = make_family("sinusoid"), make_family("blobs")
    for raw, words in [(bytes(range(256)) * 8, "not a text"),
                       (("x,y\n" + "1,1\n" * 1001).encode(), "at most 1000 are"),
                       (b"x,y\n" + b"1,1\n" * 300_000, "at most 1,000,000 bytes")]:
        with pytest.raises(uploads.UploadError, match=words):
            uploads.parse_upload(raw, fam)
    assert uploads.parse_upload(b"x1,x2,label\n1,2,4\n", blobs).y.tolist() == [4]
    for body in (b"x1,x2,label\n1,2,5\n", b"x1,x2,label\n1,2,0.5\n", b"x1,x2,label\n1,2,-1\n"):
        with pytest.raises(uploads.UploadError, match="labels are whole numbers from 0 to 4"):
            uploads.parse_upload(body, blobs)
    warn = uploads.parse_upload(b"x,y\n1,7\n", fam).warnings
    assert warn and "outside" in warn[0]
    assert uploads.parse_upload("x;y\n1,5;0,25\n".encode(), fam).x.tolist() == [[1.5]]


# ============================================================================ jobs that obey
def wait_until(cond, timeout=120, step=0.01):
    t0 = time.time()
    while not cond():
        assert time.time() - t0 < timeout, "timed out"
        time.sleep(step)
    return time.time() - t0


def test_stop_takes_effect_within_a_second_even_inside_a_long_iteration(tmp_path):
    jm = JobManager(RunStore(tmp_path), eval_tasks=20)
    # one iteration of these settings takes several seconds on a CPU (an uninterruptible
    # Hessian-vector product over 200 tasks x 100 points x a 512-512 network)
    job = jm.submit(make_config(hidden=(512, 512), meta_batch=200, k_shot=100, iterations=5),
                    owner="a")
    assert job.estimate.per_iteration > 0.5
    wait_until(lambda: job.progress is not None)
    time.sleep(1.5)                                     # well inside the first iteration
    assert job.status == "running" and job.progress.iteration == 0
    assert not jm.stop(job.key, "b") and job.status == "running"     # not theirs to stop
    t0 = time.time()
    assert jm.stop(job.key, "a") and job.status == "stopping"
    took = wait_until(lambda: job.status not in ("running", "stopping"))
    assert took <= 1.0, took
    wait_until(lambda: not job.active)
    assert job.status == "stopped" and "nothing was stored" in job.error
    assert time.time() - t0 < 5 and not os.listdir(tmp_path)


def test_a_stopped_job_whose_child_had_to_be_killed_keeps_its_last_snapshot(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs_mod, "STOP_GRACE", 0.0)        # kill at once: the snapshot path
    store = RunStore(tmp_path)
    jm = JobManager(store, eval_tasks=20, max_seconds=1e9)
    job = jm.submit(make_config(**{**CFG, "iterations": 10_000_000}), owner="a")
    wait_until(lambda: job.progress is not None and job.progress.iteration > 200)
    time.sleep(SNAPSHOT_EVERY + 0.5)
    jm.stop(job.key, "a")
    wait_until(lambda: not job.active)
    assert job.status == "stopped", job.error
    stored = store.get(job.config)
    assert stored.info["partial"] and stored.info["iterations_done"] > 200 and stored.metrics


def test_queue_positions_fairness_cancel_limits_and_refusals(tmp_path):
    jm = JobManager(RunStore(tmp_path), eval_tasks=20, per_session=2, max_seconds=1e9)
    cfg = lambda seed, **kw: make_config(**{**CFG, "iterations": 10_000_000, "seed": seed, **kw})
    a1 = jm.submit(cfg(1), owner="a")
    wait_until(lambda: a1.status == "running")
    a2 = jm.submit(cfg(2), owner="a")
    b1 = jm.submit(cfg(3), owner="b")
    assert jm.submit(cfg(3), owner="c") is b1                   # same config: the same job
    assert [j.key for j in jm.waiting()] == [b1.key, a2.key]     # sessions take turns
    assert jm.position(b1) == 1 and "2nd in line" in jm.describe(a2, "a")
    assert "another user's (read-only)" in jm.describe(a2, "b")
    with pytest.raises(JobRefused, match="limit is 2 per session"):
        jm.submit(cfg(4), owner="a")
    assert not jm.stop(b1.key, "a") and jm.stop(b1.key, "b")     # only its owner cancels it
    assert b1.status == "cancelled" and jm.waiting() == [a2]
    with pytest.raises(JobRefused, match="memory") as e:
        jm.submit(cfg(5, family="sinusoid", hidden=(4096, 4096, 4096), meta_batch=1000,
                      k_query=1000), owner="d")
    assert "GB" in str(e.value)
    with pytest.raises(JobRefused, match="at most 15 min per job"):       # the app's default cap
        JobManager(RunStore(tmp_path)).submit(cfg(6, family="sinusoid", hidden=(256, 256),
                                                  meta_batch=100, k_shot=50, iterations=100_000))
    jm.stop(a1.key, "a")
    wait_until(lambda: a2.status == "running")
    jm.shutdown()
    wait_until(lambda: not a2.active)
    assert {j.status for j in jm.jobs()} == {"stopped", "cancelled"}   # all still listed


def test_a_job_whose_process_dies_fails_with_a_message_and_the_manager_goes_on(tmp_path):
    jm = JobManager(RunStore(tmp_path), eval_tasks=20, max_seconds=1e9)
    job = jm.submit(make_config(**{**CFG, "iterations": 10_000_000}), owner="a")
    wait_until(lambda: job.pid is not None and job.progress is not None)
    os.kill(job.pid, signal.SIGKILL)                         # as the out-of-memory killer would
    wait_until(lambda: not job.active)
    assert job.status == "failed" and "ran out of memory" in job.error
    nxt = jm.submit(make_config(**{**CFG, "seed": 9}), owner="a")
    wait_until(lambda: not nxt.active)
    assert nxt.status == "done" and nxt.run is not None


def test_ctrl_c_works_when_started_with_sigint_ignored(tmp_path):
    """A shell starts background jobs (and CI harnesses their children) with SIGINT ignored;
    Python keeps that, so without the CLI's own reset `kill -INT` would do nothing."""
    def ignore_sigint():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    code, _, err = _interrupt(["train", "--family", "linear", "--iterations", "1000000",
                               "--no-compile", "--runs-dir", str(tmp_path / "runs")], "it/s",
                              preexec_fn=ignore_sigint)
    assert code == 130, err[-500:]
    assert not (tmp_path / "runs").exists() or not any(
        n.startswith(".tmp") for n in os.listdir(tmp_path / "runs"))
