"""Issue 26, item 1: nothing lost when the app stops. A job's child never dies of a closed pipe:
if the app is gone it stores what it learned and removes its work folder; the app closing
(SIGTERM or Ctrl-C on `streamlit run`) stops the running job keeping what it learned, records the
waiting ones for the next app, and leaves no `maml-viz-job-*` folder; leftovers of an app that
died are removed at start. Every wait is on a condition, with a deadline that only bounds a hang.
"""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from maml_viz.engine.registry import make_config
from maml_viz.runs.files import check_run, load_run
from maml_viz.runs.store import RunStore
from maml_viz.services import interrupted
from maml_viz.services.child import WORKDIR_PREFIX, clean_workdirs
from maml_viz.services.jobs import NOT_RUN, JobManager

ROOT = Path(__file__).resolve().parents[1]
LONG = dict(family="linear", algo="maml", iterations=5_000_000)


def wait_until(cond, timeout=180, what="condition"):
    t0 = time.time()
    while not cond():
        assert time.time() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)


def workdirs(tmp: Path) -> list:
    return sorted(p.name for p in tmp.glob(WORKDIR_PREFIX + "*"))


def stored_partial(runs: Path, cfg):
    d = runs / cfg.key()
    return d.is_dir() and check_run(d) is None and load_run(d).info.get("partial")


# ------------------------------------------------------------------ the app killed outright
APP = textwrap.dedent("""
    import sys, time
    from maml_viz.engine.registry import make_config
    from maml_viz.runs.store import RunStore
    from maml_viz.services.jobs import JobManager
    jm = JobManager(RunStore(sys.argv[1]), eval_tasks=20, max_seconds=1e9)
    job = jm.submit(make_config(family="linear", algo="maml", iterations=5_000_000), owner="a")
    while job.progress is None or job.progress.iteration < 300:
        time.sleep(0.05)
    print("training", job.pid, flush=True)
    time.sleep(600)
""")


def test_a_child_whose_app_is_killed_keeps_what_it_learned_and_removes_its_folder(tmp_path):
    runs, tmp = tmp_path / "runs", tmp_path / "tmp"
    tmp.mkdir()
    app = subprocess.Popen([sys.executable, "-c", APP, str(runs)], cwd=ROOT, text=True,
                           env=dict(os.environ, TMPDIR=str(tmp), PYTHONPATH=str(ROOT)),
                           stdout=subprocess.PIPE)
    try:
        line = app.stdout.readline()
        assert line.startswith("training"), line
        child = int(line.split()[1])
        assert len(workdirs(tmp)) == 1
        app.kill()                                   # the app dies: the child's pipes close
        app.wait(30)
        wait_until(lambda: not os.path.exists(f"/proc/{child}"), what="the child to exit")
    finally:
        if app.poll() is None:
            app.kill()
    cfg = make_config(**LONG)
    assert stored_partial(runs, cfg), "the child did not store what it learned"
    assert load_run(runs / cfg.key()).info["iterations_done"] >= 300
    assert workdirs(tmp) == []                        # the child removed its own folder


# ------------------------------------------------------------------ the app closing (in process)
def test_close_stops_the_running_job_keeps_it_and_records_the_waiting_ones(tmp_path,
                                                                           monkeypatch):
    runs, tmp = tmp_path / "runs", tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)   # (gettempdir reads TMPDIR again)
    jm = JobManager(RunStore(runs), eval_tasks=20, max_seconds=1e9)
    a = jm.submit(make_config(**LONG), owner="a")
    b = jm.submit(make_config(**{**LONG, "algo": "fomaml"}), owner="b")
    wait_until(lambda: a.progress is not None and a.progress.iteration >= 300)
    entries = jm.close()
    assert not a.active and a.status == "stopped" and a.run is not None, (a.status, a.error)
    assert a.run.info["partial"] and a.run.metrics is None     # no evaluation on the way out
    assert b.status == "cancelled" and b.error == NOT_RUN
    assert {e["outcome"] for e in entries} == {"stopped", "not run"}
    assert stored_partial(runs, a.config) and workdirs(tmp) == []
    with pytest.raises(Exception, match="shutting down"):
        jm.submit(make_config(**{**LONG, "seed": 5}))
    # the next app on this folder says what happened, once
    nxt = JobManager(RunStore(runs))
    got = {j.config.algo: j for j in nxt.jobs()}
    assert got["fomaml"].status == "cancelled" and "not run" in got["fomaml"].error
    assert got["maml"].status == "stopped" and got["maml"].run is not None
    assert "when the app stopped" in nxt.describe(got["maml"])
    assert not (runs / interrupted.FILE).exists()


def test_a_damaged_record_is_ignored_with_a_reason(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    good = {"config": make_config(**LONG).to_dict(), "owner": None, "outcome": "not run",
            "note": "x", "when": 1.0}
    (runs / interrupted.FILE).write_text(json.dumps([
        good, {"config": {"family": "nope"}, "outcome": "not run", "when": 1.0, "owner": None},
        {"config": good["config"], "outcome": "exploded", "when": 1.0}, "junk"]))
    entries, problems = interrupted.read(runs / interrupted.FILE)
    assert len(entries) == 1 and len(problems) == 3
    (runs / interrupted.FILE).write_text("{oops")
    assert interrupted.read(runs / interrupted.FILE)[0] == []
    assert JobManager(RunStore(runs)).jobs() == []           # and the app starts all the same


def test_leftover_work_folders_of_a_dead_app_are_removed_at_start(tmp_path, monkeypatch):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead, mine = tmp_path / f"{WORKDIR_PREFIX}{gone.pid}-abc", \
        tmp_path / f"{WORKDIR_PREFIX}{os.getpid()}-def"
    orphan_alive = tmp_path / f"{WORKDIR_PREFIX}{gone.pid}-ghi"      # its child still runs
    for d in (dead, mine, orphan_alive):
        d.mkdir()
        (d / "snapshot.safetensors").write_bytes(b"x")
    (orphan_alive / "child.pid").write_text(str(os.getpid()))
    old = tmp_path / f"{WORKDIR_PREFIX}k2j3h4g5"                     # older naming, no pid
    old.mkdir()
    os.utime(old, (time.time() - 86400, time.time() - 86400))
    assert sorted(clean_workdirs(str(tmp_path))) == sorted([dead.name, old.name])
    assert mine.is_dir() and orphan_alive.is_dir()


# ------------------------------------------------------------------ a real server, SIGTERM
def test_stopping_the_server_mid_training_keeps_the_run_and_leaves_no_folder(tmp_path):
    from browser import browser, server_process, wait_idle

    runs, tmp = tmp_path / "runs", tmp_path / "tmp"
    tmp.mkdir()
    with server_process(runs, env={"TMPDIR": str(tmp), "PYTHONFAULTHANDLER": "1"}) as (url, proc), \
            browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 2000})
        page.goto(f"{url}/Train")
        page.get_by_role("heading", name="Train").first.wait_for(timeout=90_000)
        wait_idle(page)
        page.get_by_role("combobox", name="Task family").first.click()
        page.get_by_role("option", name="Straight lines").click()
        wait_idle(page)
        page.get_by_role("spinbutton", name="Meta-iterations").fill("500000")
        page.get_by_role("spinbutton", name="Seeds (a sweep)").fill("2")   # one trains, one waits
        page.get_by_role("button", name="Start training").click()
        # wait for the first job to have learned something (its progress line counts it)
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="stProgress"]')].some(
                   p => /training · [1-9][0-9,]* of/.test(p.innerText))""", timeout=180_000)
        assert workdirs(tmp)
        proc.send_signal(signal.SIGTERM)
        # the app's exit waits, each bounded (jobs.CLOSE_WAIT, memo, evaluations: 30 s), can
        # add up on a loaded machine: allow their sum and more
        try:
            out = proc.communicate(timeout=240)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:      # say where it hangs: every thread's stack
            proc.send_signal(signal.SIGABRT)
            raise AssertionError(proc.communicate(timeout=30)[0].decode(errors="replace")[-8000:])
    assert proc.returncode is not None
    assert "BrokenPipeError" not in out and "Traceback" not in out, out[-3000:]
    first = make_config(family="linear", algo="maml", iterations=500_000, seed=0)
    second = make_config(family="linear", algo="maml", iterations=500_000, seed=1)
    assert stored_partial(runs, first), (sorted(os.listdir(runs)), out[-2000:])
    assert not (runs / second.key()).exists()
    assert workdirs(tmp) == []
    entries, problems = interrupted.read(runs / interrupted.FILE)
    assert not problems
    assert {(e["cfg"].seed, e["outcome"]) for e in entries} == {(0, "stopped"), (1, "not run")}
