"""Issue 26, item 8 (and the sweep messages of item 11): a sweep checks what it can before Ray
starts and says so in one line (exit 2): an --address where no Ray answers (a web server, a
silent port), --cpus-per-trial above the largest node, trials that cannot fit in memory, an
unusable --runs-dir; `kill` during the start is an "interrupted" line; a damaged stored copy is
named when it is replaced; two sweeps sharing a store never train one config twice; the table
keeps its columns apart and the summary's diverged count agrees with its rows.

Ray stays on loopback: nodes start with node_ip_address="127.0.0.1" and the driver runs with
RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (set before Ray is imported); the cluster is shut down in a
`finally`. Waits are on conditions (a connection accepted, a log line), never on sleeps."""
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import pytest  # noqa: E402

from maml_viz import cli  # noqa: E402
from maml_viz.engine.registry import make_config  # noqa: E402
from maml_viz.runs import claims  # noqa: E402
from maml_viz.services import preflight  # noqa: E402
from maml_viz.services.sweep import run_sweep  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sweep(*args):
    return cli.main(["sweep", "--family", "linear", "--algos", "maml", "--seeds", "0",
                     "--iterations", "20", "--quiet", *args])


def one_error_line(capsys, code, want, rc=2):
    err = capsys.readouterr().err
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("sweep: ")]
    assert code == rc and len(lines) == 1 and lines[0].startswith("error: "), err
    assert want in lines[0] and "Traceback" not in err, err
    return lines[0]


def no_ray_started():
    return "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


# ------------------------------------------------------------------ --address
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


@pytest.fixture
def web_server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


class Silent:
    """A port that accepts connections and never says anything; `accepted` is set on the first."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.accepted, self.conns = threading.Event(), []
        threading.Thread(target=self._serve, daemon=True).start()
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            self.accepted.set()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def test_an_address_where_a_web_server_answers_is_refused_at_once(web_server, tmp_path, capsys):
    t0 = time.time()
    code = sweep("--runs-dir", str(tmp_path / "runs"), "--address", web_server)
    one_error_line(capsys, code, "no Ray cluster answers at " + web_server + " (")
    assert time.time() - t0 < 60 and no_ray_started()


def test_an_address_where_nothing_speaks_is_refused_within_seconds(tmp_path, capsys):
    silent = Silent()
    try:
        code = sweep("--runs-dir", str(tmp_path / "runs"), "--address", silent.address)
    finally:
        silent.close()
    one_error_line(capsys, code, "nothing answered within")
    assert no_ray_started()


def test_kill_while_the_sweep_starts_says_interrupted(tmp_path):
    silent = Silent()
    p = subprocess.Popen([sys.executable, "-m", "maml_viz", "sweep", "--family", "linear",
                          "--seeds", "0", "--iterations", "20", "--runs-dir", str(tmp_path / "r"),
                          "--address", silent.address, "--quiet"], cwd=ROOT,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert silent.accepted.wait(120), "the sweep never probed the address"
        p.send_signal(signal.SIGTERM)                # while it waits for Ray to answer
        err = p.communicate(timeout=60)[1]
    finally:
        silent.close()
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode == 130 and "interrupted" in err and "Traceback" not in err, err


# ------------------------------------------------------------------ before Ray: cores, memory, folder
def test_more_cores_per_trial_than_this_machine_has_is_refused(tmp_path, capsys):
    code = sweep("--runs-dir", str(tmp_path / "runs"), "--cpus-per-trial",
                 str((os.cpu_count() or 1) + 1))
    one_error_line(capsys, code, f"but this machine has {os.cpu_count()}")
    assert no_ray_started()


def test_trials_that_cannot_fit_in_memory_are_refused_as_train_refuses_them(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(preflight, "local_nodes", lambda: [{"cpus": 2.0, "memory": 5e6}])
    code = sweep("--runs-dir", str(tmp_path / "runs"))
    one_error_line(capsys, code, "would need about")
    assert no_ray_started() and not (tmp_path / "runs").exists() or \
        not any((tmp_path / "runs").iterdir())


def test_an_unusable_runs_dir_fails_before_ray(tmp_path, capsys):
    (tmp_path / "afile").write_text("not a folder")
    code = sweep("--runs-dir", str(tmp_path / "afile" / "runs"))
    one_error_line(capsys, code, "--runs-dir")
    assert no_ray_started()


# ------------------------------------------------------------------ the table
def _stored(runs, seed, means):
    """A stored linear MAML run (20 iterations) whose evaluation means are `means` (None:
    diverged), for the summary (no training: the files are written as a run would be)."""
    from maml_viz.engine.train import train
    from maml_viz.runs.evaluate import evaluate, to_json
    from maml_viz.runs.saving import save
    run = train(make_config(family="linear", algo="maml", iterations=20, seed=seed), "cpu")
    run.metrics = to_json(evaluate(run, steps=len(means) - 1, n_tasks=10))
    for r, m in zip(run.metrics["results"], means):
        r["mean"], r["ci95"] = (m, 0.5 * m) if m is not None else (None, None)
        r["diverged"] = m is None or None
        if m is None:
            r["diverged"] = True
        else:
            r.pop("diverged")
    run.metrics["protocol"]["steps"] = len(means) - 1
    save(run, runs)


def test_the_table_keeps_columns_apart_and_the_summary_agrees_with_it(tmp_path, capsys):
    runs = tmp_path / "runs"
    _stored(runs, 0, [1.5, 3.2e12, None, None])            # huge, then diverged
    _stored(runs, 1, [1.4, 2.0e12, 8.0e12, 9.0e12])
    capsys.readouterr()
    code = cli.main(["sweep", "--family", "linear", "--algos", "maml", "--seeds", "0-1",
                     "--iterations", "20", "--runs-dir", str(runs), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    head, row = out.strip().splitlines()[1:3]
    cells = re.split(r"\s{2,}", row.strip())
    assert len(cells) == len(re.split(r"\s{2,}", head.strip())), (head, row)
    assert cells[:2] == ["maml", "2"] and "diverged 1/2" in cells
    for c in cells[2:]:
        assert c == "diverged 1/2" or re.fullmatch(r"-?[\d.e+]+( ± [\d.e+]+)?", c), c
    assert "0 diverged in training" in err and "1 diverged when adapting" in err
    assert no_ray_started()


# ------------------------------------------------------------------ Ray: replaced copies, two sweeps
@pytest.fixture(scope="module")
def cluster():
    import ray
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False})
    try:
        c.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        c.wait_for_nodes()
        yield c.address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        c.shutdown()


def test_cores_per_trial_above_the_largest_node_are_refused(cluster, tmp_path, capsys):
    nodes = preflight.probe(cluster)
    assert len(nodes) == 2 and max(n["cpus"] for n in nodes) == 1
    code = sweep("--runs-dir", str(tmp_path / "runs"), "--address", cluster,
                 "--cpus-per-trial", "2")
    one_error_line(capsys, code, "the largest node of the cluster has 1")


def test_a_damaged_copy_is_named_when_the_sweep_replaces_it(cluster, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert cli.main(["train", "--family", "linear", "--iterations", "20", "--runs-dir",
                     str(runs), "--quiet", "--no-compile"]) == 0
    key = make_config(family="linear", algo="maml", iterations=20).key()
    m = json.loads((runs / key / "metrics.json").read_text())
    m["evaluation"]["results"] = []
    (runs / key / "metrics.json").write_text(json.dumps(m))
    capsys.readouterr()
    code = sweep("--runs-dir", str(runs), "--address", cluster, "--no-compile")
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"the stored copy {runs / key} is damaged (metrics.json evaluation.results is empty" \
        in err and "replaced a damaged copy" in err
    assert "1 trained" in err


def test_two_sweeps_sharing_a_store_never_train_one_config_twice(cluster, tmp_path):
    runs, ref = tmp_path / "runs", tmp_path / "ref"
    assert cli.main(["train", "--family", "linear", "--iterations", "20", "--seed", "1",
                     "--runs-dir", str(ref), "--quiet", "--no-compile"]) == 0
    other = make_config(family="linear", algo="maml", iterations=20, seed=1)
    mine = make_config(family="linear", algo="maml", iterations=20, seed=0)
    # another sweep (a live process of this machine) holds the claim on seed 1
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        (runs / claims.CLAIMS).mkdir(parents=True)
        (runs / claims.CLAIMS / other.key()).write_text(json.dumps(
            {"pid": holder.pid, "start": claims._start_time(holder.pid),
             "host": socket.gethostname()}))
        said = []

        def log(msg):
            said.append(msg)
            if msg.startswith("another sweep (pid"):
                # the other sweep stores its run and ends
                shutil.copytree(ref / other.key(), runs / other.key())
                holder.kill()
                holder.wait()

        rep = run_sweep([mine, other], runs, address=cluster, progress=False, log=log,
                        compiled=False)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert any(f"pid {holder.pid}" in m and "seed=1" in m for m in said), said
    assert rep.trained == [mine.key()] and rep.elsewhere == [other.key()], rep
    assert (runs / other.key() / "meta_params.safetensors").read_bytes() == \
        (ref / other.key() / "meta_params.safetensors").read_bytes()   # not trained again
    assert not (runs / claims.CLAIMS).exists()


def test_a_claim_of_a_dead_process_is_taken_over(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    key = make_config(family="linear", algo="maml").key()
    (tmp_path / claims.CLAIMS).mkdir()
    (tmp_path / claims.CLAIMS / key).write_text(json.dumps(
        {"pid": gone.pid, "start": "1", "host": socket.gethostname()}))
    assert claims.holder(tmp_path, key) is None and claims.claim(tmp_path, key) is None
    assert claims.claim(tmp_path, key) is None            # ours already: claiming again is fine
    claims.release(tmp_path, key)
    assert not (tmp_path / claims.CLAIMS).exists()


def test_an_address_where_the_streamlit_app_answers_is_refused(tmp_path, capsys):
    from browser import server
    with server(tmp_path / "app-runs") as (url, _):
        address = url.split("//")[1]
        code = sweep("--runs-dir", str(tmp_path / "runs"), "--address", address)
    one_error_line(capsys, code, "no Ray cluster answers at " + address + " (")
    assert no_ray_started()
