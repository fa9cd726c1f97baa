"""Background training for a UI: a queue of jobs, each trained in its own child process, polled by
the app. No Streamlit here: the app caches one `JobManager` per server and polls it.

- One job trains at a time (small CPUs); the others wait in a queue that everyone can see, with
  their position. The queue takes the sessions in turn (each session's first waiting job, then
  each one's second, ...), a session may have at most `per_session` jobs waiting or running, and
  one training may take at most `max_seconds` (longer ones are refused before they start, and a
  job that runs past it is stopped, keeping what it learned): one user's jobs can't block
  everyone.
- Before a job is queued its memory and time are estimated (budget.py); a job that cannot fit in
  the memory available now is refused with the estimate and the limit.
- Submitting a config that is already training or waiting returns the same job (two sessions
  asking for one config train it once); a config that is already stored returns a finished job.
- Only the session that started a job can stop or cancel it; the others see it read-only.
- Stop takes effect within a second, whatever one iteration costs: the child checks between
  inner steps; if it is inside a longer computation it is killed, and the parameters of its last
  finished chunk of iterations (a snapshot it writes before reporting progress; every second for
  large models) are evaluated and stored as a partial
  run. A waiting job that is stopped is cancelled.
- Divergence (NaN/inf) ends the job with a clear message and stores nothing; a child that dies
  (out of memory, say) fails the job, never the app.
- Finished, stopped and failed jobs stay listed with their state.

With MAML_VIZ_JOB_LOG set to a file, one line is appended when a training starts and when it ends
(time, start|end, run key, owner or final state): an operator's record of what trained.

Each job's child process is services.child (`python -m maml_viz.services.child`).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from ..engine.algorithms import get_algorithm
from ..engine.config import ConfigError, TrainConfig
from ..engine.tasks import get_family
from ..runs import budget
from ..views.links import origin
from .child import NOTHING, Child

ACTIVE = ("queued", "running", "stopping", "saving")
MAX_JOB_SECONDS = 15 * 60    # one training in the app (the command line has no such limit)
STOP_GRACE = 0.4             # seconds a child gets to stop by itself before it is killed


class JobRefused(ValueError):
    """A job that cannot be accepted; the message says why and what to do."""


@dataclass
class Progress:
    iteration: int
    total: int
    loss: float
    its_per_s: float
    elapsed: float

    @property
    def eta(self) -> float:
        return (self.total - self.iteration) / self.its_per_s if self.its_per_s > 0 else float("nan")


@dataclass
class Job:
    config: TrainConfig
    owner: str | None = None
    status: str = "queued"       # queued | running | stopping | saving | done | stopped | failed | cancelled
    progress: Progress | None = None
    history: dict = field(default_factory=lambda: {"iteration": [], "meta_loss": [],
                                                   "wall_time": []})
    error: str | None = None
    note: str = ""               # e.g. "replaced a damaged copy ..."
    run: object = None
    estimate: budget.Estimate | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    stop_requested: float | None = None
    pid: int | None = None       # the child process training it, while it runs
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def key(self) -> str:
        return self.config.key()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def fraction(self) -> float:
        if self.status in ("done", "stopped"):
            return 1.0
        if not self.progress or not self.progress.total:
            return 0.0
        return min(1.0, self.progress.iteration / self.progress.total)

    def stop(self) -> None:
        """Ask the job to stop (no ownership check: use JobManager.stop from a UI)."""
        with self._lock:
            if self.status == "queued":
                self.status, self.finished = "cancelled", time.time()
                self.error = "cancelled before it started; nothing was trained"
            elif self.status == "running":
                self.status = "stopping"
            if self.stop_requested is None:
                self.stop_requested = time.time()
            self._stop.set()


class JobManager:
    def __init__(self, store, device="cpu", chunk: int = 100, eval_tasks: int | None = None,
                 per_session: int = 5, max_waiting: int = 20, keep_finished: int = 100,
                 memory_limit: int | None = None, max_seconds: float = MAX_JOB_SECONDS):
        self.store, self.device, self.chunk, self.eval_tasks = store, str(device), chunk, eval_tasks
        self.per_session, self.max_waiting, self.keep_finished = per_session, max_waiting, keep_finished
        self.max_seconds = max_seconds
        self.memory_limit = memory_limit          # None: what the machine has free at the time
        self._jobs: dict = {}                     # key -> latest Job of that config
        self._queue: deque = deque()
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None
        self.current: Job | None = None

    # ------------------------------------------------------------------ submitting
    def estimate(self, cfg: TrainConfig) -> budget.Estimate:
        return budget.job_estimate(cfg, self.eval_tasks, self.device)

    def refusal(self, est: budget.Estimate) -> str | None:
        return budget.too_big(est, self.device, self.memory_limit)

    def submit(self, cfg: TrainConfig, owner: str | None = None) -> Job:
        """Queue cfg for training (or return the job/run that already covers it). Raises
        JobRefused with a one-line reason for what cannot be accepted."""
        cfg.validate()
        key = cfg.key()
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and (job.active or job.status == "done"):
                return job
        existing = self.store.get(cfg)
        if existing is not None and not existing.info.get("partial"):
            job = Job(cfg, owner, status="done", run=existing, finished=time.time(),
                      note="was already trained: the stored run is used")
            with self._lock:
                self._jobs[key] = job
            return job
        est = self.estimate(cfg)
        why = self.refusal(est)
        if why:
            raise JobRefused(f"{why}: use fewer tasks per iteration, fewer examples per task or "
                             f"smaller hidden layers")
        if est.seconds > self.max_seconds:
            raise JobRefused(f"this training would take about {budget.human_time(est.seconds)} "
                             f"here; the app trains for at most "
                             f"{budget.human_time(self.max_seconds)} per job so that no one waits "
                             f"too long: use fewer iterations or smaller settings, or train it "
                             f"with `python -m maml_viz train`")
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.active:
                return job
            mine = [j for j in self._jobs.values() if j.active and owner is not None
                    and j.owner == owner]
            if len(mine) >= self.per_session:
                raise JobRefused(f"you already have {len(mine)} trainings waiting or running (the "
                                 f"limit is {self.per_session} per session): wait for one to "
                                 f"finish or stop one")
            if len(self.waiting()) >= self.max_waiting:
                raise JobRefused(f"{len(self.waiting())} trainings are waiting already (the limit "
                                 f"is {self.max_waiting}): try again later")
            job = Job(cfg, owner, estimate=est, _lock=self._lock)
            damaged = self.store.damage(cfg)
            if damaged:
                job.note = "a damaged copy is stored; training replaces it"
            self._jobs[key] = job
            self._queue.append(job)
            self._trim()
            self._wake.notify()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._loop, daemon=True, name="jobs")
                self._worker.start()
        return job

    def submit_many(self, cfgs, owner: str | None = None) -> tuple:
        """Queue several configs in order (a sweep: algorithms x seeds), under the same rules as
        `submit`; stops at the first one refused. Returns (jobs, refusal): the jobs queued or
        already covering a config (trained, waiting or running), and None or one line saying
        which config was refused and why. Submitting the same list again later resumes it:
        what is stored or queued is not repeated."""
        jobs = []
        for cfg in cfgs:
            try:
                jobs.append(self.submit(cfg, owner))
            except JobRefused as e:
                rest = len(cfgs) - len(jobs)
                return jobs, (f"{rest} of {len(cfgs)} trainings not queued, from "
                              f"{run_label(cfg)}: {e}")
        return jobs, None

    def _trim(self):
        done = sorted((j for j in self._jobs.values() if not j.active), key=lambda j: j.created)
        for j in done[:max(0, len(done) - self.keep_finished)]:
            del self._jobs[j.key]

    # ------------------------------------------------------------------ looking
    def get(self, key: str) -> Job | None:
        return self._jobs.get(key)

    def jobs(self) -> list:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created)

    def active(self) -> list:
        return [j for j in self.jobs() if j.active]

    def running(self) -> list:
        return [j for j in self.jobs() if j.status in ("running", "stopping", "saving")]

    def waiting(self) -> list:
        """Waiting jobs in the order they will start: sessions take turns."""
        with self._lock:
            cur = self.current
            seen: dict = {cur.owner: 0} if cur is not None and cur.active else {}
            order = []
            for i, j in enumerate(self._queue):
                if j.status == "queued":
                    n = seen[j.owner] = seen.get(j.owner, -1) + 1
                    order.append((n, i, j))
            return [j for _, _, j in sorted(order, key=lambda t: t[:2])]

    def position(self, job: Job) -> int | None:
        """1 for the next job to start, None if the job is not waiting."""
        w = self.waiting()
        return w.index(job) + 1 if job in w else None

    def can_stop(self, job: Job, owner: str | None) -> bool:
        return job.active and job.status not in ("stopping", "saving") and \
            (job.owner is None or job.owner == owner)

    def stop(self, key: str, owner: str | None) -> bool:
        """Stop (or cancel, if it is waiting) the job of `key` if `owner` started it."""
        job = self.get(key)
        if job is None or not self.can_stop(job, owner):
            return False
        job.stop()
        with self._lock:
            self._wake.notify()
        return True

    def describe(self, job: Job, viewer: str | None = None) -> str:
        """One line for a UI: what the job is, where it stands, and whose it is."""
        p, st = job.progress, job.status
        if st == "queued":
            pos = self.position(job)
            est = f" · about {budget.human_time(job.estimate.seconds)} once it starts" \
                if job.estimate else ""
            text = f"waiting ({_ordinal(pos)} in line){est}" if pos else "waiting"
        elif st == "running":
            if p is None or not p.its_per_s:
                text = "starting…"
            else:
                eta = f" · about {budget.human_time(p.eta)} left" if p.eta == p.eta else ""
                text = f"training · {p.iteration:,} of {p.total:,} iterations{eta}"
        elif st == "stopping":
            text = "stopping…"
        elif st == "saving":
            text = ("stopped; evaluating and saving what it learned…" if job.stop_requested
                    else "evaluating and saving…")
        elif st == "done":
            text = "done"
        elif st == "stopped" and job.run is not None:
            done = job.run.info.get("iterations_done", 0)
            text = f"stopped at {done:,} of {job.config.iterations:,} iterations (kept as a partial run)"
        else:
            text = job.error if job.error and job.error.startswith(st) else \
                f"{st}: {job.error}" if job.error else st
        if job.note:
            text += f" · {job.note}"
        who = "" if job.owner is None or viewer is None else \
            " · yours" if job.owner == viewer else " · another user's (read-only)"
        return f"{run_label(job.config)}: {text}{who}"

    def forget(self, key: str) -> None:
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and not job.active:
                del self._jobs[key]

    def shutdown(self) -> None:
        """Cancel the queue and stop the running job (tests; a server going down)."""
        with self._lock:
            for j in list(self._queue):
                j.stop()
            if self.current is not None:
                self.current.stop()

    # ------------------------------------------------------------------ the worker
    def _loop(self):
        while True:
            with self._lock:
                while not self.waiting():
                    self._queue.clear()
                    self._wake.wait(timeout=60)
                    if not self.waiting():
                        self._worker = None
                        return
                job = self.waiting()[0]
                self._queue.remove(job)
                why = self.refusal(job.estimate) if job.estimate else None
                if why:
                    job.status, job.finished = "failed", time.time()
                    job.error = f"{why} (less memory is free than when it was queued): try again later"
                    continue
                job.status, job.started, self.current = "running", time.time(), job
            _log("start", job.key, job.owner)
            try:
                self._run(job)
            except Exception as e:  # never let the worker die: report on the job
                job.status, job.error = "failed", f"training failed: {type(e).__name__}: {e}"
            finally:
                job.finished = job.finished or time.time()
                _log("end", job.key, job.status)
                with self._lock:
                    self.current = None

    def _spec(self, job: Job, workdir: str, snapshot: dict | None = None) -> dict:
        return {"config": job.config.to_dict(), "device": self.device, "chunk": self.chunk,
                "eval_tasks": self.eval_tasks, "runs_dir": str(self.store.roots[0]),
                "workdir": workdir, "snapshot": snapshot}

    def _run(self, job: Job):
        workdir = tempfile.mkdtemp(prefix="maml-viz-job-")
        children = []
        try:
            child = Child(self._spec(job, workdir))
            children.append(child)
            job.pid = child.proc.pid
            snapshot, killed = None, False
            while True:
                ev = child.next(0.05)
                if job._stop.is_set() and not child.asked_to_stop and job.status == "stopping":
                    child.ask_stop()
                if job.status == "running" and time.time() - job.started > self.max_seconds:
                    job.note = (f"stopped at the app's limit of "
                                f"{budget.human_time(self.max_seconds)} per training")
                    job.stop()
                if job.status == "stopping" and not killed and \
                        time.time() - job.stop_requested > STOP_GRACE:
                    child.kill()                       # inside a long computation: abandon it
                    killed = True
                    job.status = "saving"              # it computes nothing more from now on
                if ev is None:
                    if child.finished():
                        break
                    continue
                what = ev.get("event")
                if what == "progress":
                    self._progress(job, ev)
                elif what == "snapshot":
                    snapshot = ev
                elif what == "phase":
                    job.status = "saving"
                elif what in ("done", "failed"):
                    self._end(job, ev)
                    return
            if killed:
                self._finish_from(job, snapshot, workdir, children)
            else:
                job.status = "failed"
                job.error = child.death()
        finally:
            job.pid = None
            for c in children:
                c.close()
            shutil.rmtree(workdir, ignore_errors=True)

    def _progress(self, job: Job, ev: dict):
        job.progress = Progress(ev["iteration"], ev["total"], ev["loss"], ev["its_per_s"],
                                ev["elapsed"])
        h = ev.get("history") or {}
        if h.get("iteration"):
            job.history = {k: job.history[k] + h[k] for k in job.history}

    def _end(self, job: Job, ev: dict):
        if ev["event"] == "failed":
            job.status = "stopped" if ev.get("nothing") else "failed"
            job.error = ev["error"]
            return
        job.note = {"replaced": ev.get("note") or "",
                    "reused": "an equal or better run of this config was stored meanwhile: "
                              "it is used"}.get(ev.get("action"), job.note if "limit" in job.note
                                                else "")
        job.run = self.store.get(job.config)
        job.status = "stopped" if ev.get("partial") else "done"

    def _finish_from(self, job: Job, snapshot: dict | None, workdir: str, children: list):
        """The child was killed while stopping: store its last snapshot as a partial run."""
        if snapshot is None:
            job.status, job.error = "stopped", NOTHING
            return
        job.status = "saving"
        done = snapshot["info"]["iterations_done"]
        keep = [i for i, it in enumerate(job.history["iteration"]) if it <= done]
        snapshot = dict(snapshot, history={k: [v[i] for i in keep] for k, v in job.history.items()})
        child = Child(self._spec(job, workdir, snapshot))
        children.append(child)
        job.pid = child.proc.pid
        while not child.finished() or child.pending():
            ev = child.next(0.1)
            if ev and ev.get("event") in ("done", "failed"):
                self._end(job, ev)
                return
        job.status, job.error = "failed", child.death()


def _log(event: str, key: str, detail) -> None:
    path = os.environ.get("MAML_VIZ_JOB_LOG")
    if path:
        try:
            with open(path, "a") as f:
                f.write(f"{time.time():.3f} {event} {key} {detail}\n")
        except OSError:
            pass


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def run_label(cfg: TrainConfig) -> str:
    """A run in plain words: 'MAML on Sine waves (K=10, 20,000 iterations, seed 0)' (a formula
    family names its formula and ranges instead of its label)."""
    fam = get_family(cfg.family)
    return (f"{get_algorithm(cfg.algo).label} on {fam.options_label(cfg.family_options) or fam.label} "
            f"(K={cfg.k_shot}, {cfg.iterations:,} iterations, seed {cfg.seed})")


def _label(lookup, name: str) -> str:
    try:
        return lookup(name).label
    except ConfigError:                     # a damaged run's folder may name anything
        return name


def run_rows(entries: list) -> tuple:
    """The Train page's tables of stored runs (RunStore.list() entries): (rows for everyone,
    rows of technical details). A damaged run has a row saying why."""
    main, tech = [], []
    for e in entries:
        c, t, ev = e["config"], e["training"] or {}, e["evaluation"] or {}
        res, metric = {}, (ev.get("protocol") or {}).get("metric")
        if c is not None:
            own = [x for x in ev.get("results", []) if x.get("k_shot") in (c.k_shot, None)]
            res = {x["step"]: x["mean"] for x in own or ev.get("results", [])}
        # when it was trained: the run's own record, never its files' time (a bundled run's
        # files date from when the app was installed)
        when = origin(t, bool(e.get("read_only")), os.path.getmtime(e["path"])
                      if os.path.exists(e["path"]) else None).removeprefix("trained ") or None
        fam, algo = (c.family, c.algo) if c else e["key"].split("-")[:2]   # damaged: its name
        main.append({
            "health": "damaged: " + e["error"] if e["error"] else
            "partial (stopped early)" if t.get("partial") else "ok",
            "algorithm": _label(get_algorithm, algo), "family": _label(get_family, fam),
            "K": c.k_shot if c else None, "iterations": t.get("iterations_done"),
            "seed": c.seed if c else None, "metric": metric,
            "before": res.get(0), "after 1 step": res.get(1),
            "test tasks": (ev.get("protocol") or {}).get("tasks"),
            "step size": None if not ev else "validated"
            if ((ev.get("protocol") or {}).get("version") or 1) >= 2 else "as trained",
            "trained": when,
            "bundled": bool(e.get("read_only"))})
        tech.append({"run": e["key"], "device": t.get("device"), "train s": t.get("train_seconds"),
                     "it/s": t.get("its_per_s"), "partial": bool(t.get("partial")),
                     "threads": t.get("threads"), "path": e["path"]})
    return main, tech
