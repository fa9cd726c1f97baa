"""A sweep's checks before Ray is started or joined, each refused in one line (exit 2):

- `probe(address)`: something must answer at HOST:PORT as a Ray cluster within a few seconds:
  it must speak HTTP/2 (Ray's GCS is a gRPC server; a web server, Streamlit's included, answers
  HTTP/1), then list its nodes through Ray's own GCS client, in a child process with a deadline
  (that client retries forever, printing a line every few seconds, when nobody answers). Returns
  the alive nodes' CPUs and memory.
- `local_nodes()`: the same for a local instance (this machine's cores, the memory it may use).
- `check_trials(configs, cpus_per_trial, nodes)`: every trial must fit on the largest node:
  its cores (--cpus-per-trial) and its memory, estimated as `train` estimates it (a training
  and its evaluation, runs.budget). Returns the per-trial memory to reserve in Ray, so that a
  node never runs more trials than fit in its memory.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from ..engine.config import ConfigError
from ..runs import budget

PROBE_SECONDS = 20.0       # Ray's GCS client answers in about 2 s on an idle machine
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
MEMORY_HINT = ("use fewer tasks per iteration, fewer examples per task or smaller layers "
               "(--grid meta_batch=..., k_shot=...)")

_NODES = r"""
import json, sys
from ray._raylet import GcsClient
nodes = GcsClient(address=sys.argv[1], cluster_id=None).get_all_node_info(timeout=5)
print(json.dumps([{"alive": int(n.state) == 0, "resources": dict(n.resources_total)}
                  for n in nodes.values()]))
"""


def split_address(address: str) -> tuple:
    host, sep, port = str(address).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError("address", f"must look like HOST:PORT, e.g. 127.0.0.1:6379 (got "
                                     f"{address!r})")
    return host, int(port)


def speaks_http2(host: str, port: int, timeout: float = 5.0) -> str | None:
    """None if the server at host:port answers an HTTP/2 preface with an HTTP/2 frame (as a gRPC
    server does); else what it did instead, in a few words."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(H2_PREFACE)
            head = b""
            while len(head) < 9:
                chunk = s.recv(9 - len(head))
                if not chunk:
                    break
                head += chunk
    except socket.timeout:
        return f"nothing answered within {timeout:g} s"
    except OSError as e:
        return f"{e.strerror or e}"
    if head.startswith(b"HTTP/"):
        return "a web server answered, not Ray"
    if len(head) == 9 and head[3] in (0x4, 0x7):        # SETTINGS or GOAWAY: HTTP/2
        return None
    return "the server there does not speak Ray's protocol"


def probe(address: str, timeout: float = PROBE_SECONDS) -> list:
    """The alive nodes of the Ray cluster at address: [{"cpus", "memory"}]; ConfigError (one
    line) if it is not a Ray cluster that answers within the deadline."""
    host, port = split_address(address)
    hint = (f"start one with `ray start --head --port {port}` or drop --address to run on this "
            f"machine only")
    why = speaks_http2(host, port)
    if why:
        raise ConfigError("address", f"no Ray cluster answers at {address} ({why}); {hint}")
    try:
        out = subprocess.run([sys.executable, "-c", _NODES, f"{host}:{port}"],
                             capture_output=True, text=True, timeout=timeout,
                             env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0"))
        nodes = json.loads(out.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        raise ConfigError("address", f"no Ray cluster answers at {address} within {timeout:g} s "
                                     f"(the server there is not Ray's, or it is too busy); {hint}")
    except (ValueError, IndexError):
        last = [ln for ln in (out.stderr or "").splitlines() if ln.strip()][-1:] or ["no answer"]
        raise ConfigError("address", f"the Ray cluster at {address} did not list its nodes "
                                     f"({last[0][-160:]}); {hint}")
    alive = [{"cpus": float(n["resources"].get("CPU", 0)),
              "memory": float(n["resources"].get("memory", 0))}
             for n in nodes if n.get("alive")]
    if not alive:
        raise ConfigError("address", f"the Ray cluster at {address} has no node alive; {hint}")
    return alive


def local_nodes() -> list:
    """This machine as a local Ray instance would use it."""
    return [{"cpus": float(os.cpu_count() or 1), "memory": float(budget.memory_limit("cpu"))}]


def check_trials(configs, cpus_per_trial: int, nodes: list, where: str = "the cluster") -> dict:
    """{config key: memory (bytes) one trial needs}; ConfigError if a trial fits on no node.
    where: how messages name the nodes ("this machine", "the cluster")."""
    if isinstance(cpus_per_trial, bool) or not isinstance(cpus_per_trial, int) or cpus_per_trial < 1:
        raise ConfigError("cpus_per_trial", f"must be an integer >= 1 (got {cpus_per_trial!r})")
    most = max(n["cpus"] for n in nodes)
    if cpus_per_trial > most:
        has = f"{where} has" if len(nodes) == 1 else f"the largest node of {where} has"
        raise ConfigError("cpus_per_trial", f"{cpus_per_trial} cores per trial, but {has} "
                                            f"{most:g}: no trial could ever start")
    room = max(n["memory"] for n in nodes)
    need = {}
    for cfg in configs:
        est = budget.job_estimate(cfg, device="cpu")
        if est.bytes > room:
            raise ConfigError("grid", f"a trial ({cfg.algo}, seed {cfg.seed}) would need about "
                                      f"{budget.human_bytes(est.bytes)} of memory but "
                                      f"{budget.human_bytes(room)} can be used on {where}"
                                      f"{'' if len(nodes) == 1 else ' (its largest node)'}; "
                                      f"{MEMORY_HINT}")
        need[cfg.key()] = est.bytes
    return need

