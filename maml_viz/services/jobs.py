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
- Stop takes effect within a second in every phase, whatever one iteration costs: the child
  checks between inner steps; if it is inside a longer computation it is killed, and the
  parameters of its last finished chunk of iterations (a snapshot it writes before reporting
  progress; every second for large models) are stored as a partial run. A finished training
  is stored before it is evaluated: Stop during the evaluation (or the time limit, which covers
  every phase) abandons the evaluation and keeps the trained run. A waiting job that is stopped
  is cancelled.
- When the app goes down (`close`, on SIGTERM/SIGINT), the running job stops and keeps what it
  learned (no evaluation), the waiting ones are cancelled, and both are recorded in the runs
  folder (services.interrupted): the next app lists them as stopped / not run. Work folders left
  by an app that died are removed at start (child.clean_workdirs).
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
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from ..engine.algorithms import get_algorithm
from ..engine.config import TrainConfig
from ..engine.tasks import get_family
from ..runs import budget
from . import interrupted
from .child import NOTHING, Child, clean_workdirs, make_workdir

ACTIVE = ("queued", "running", "stopping", "saving")
MAX_JOB_SECONDS = 15 * 60    # one training in the app (the command line has no such limit)
STOP_GRACE = 0.4             # seconds a child gets to stop by itself before it is killed
CLOSE_WAIT = 30.0            # seconds `close` waits for the running job to store what it learned
NOT_RUN = "not run: the app stopped before it started; press Start again to train it"
UNEVALUATED = "stored without its evaluation (Compare evaluates it when it is shown)"


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
    eval_stop_requested: float | None = None   # Stop (or the limit) during the evaluation
    saved: bool = False          # the trained run is on disk (the evaluation may follow)
    evaluating: bool = False
    quit: bool = False           # the app is going down: keep what was learned, no evaluation
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

    def stop(self, quit: bool = False) -> None:
        """Ask the job to stop (no ownership check: use JobManager.stop from a UI): a waiting
        job is cancelled, a training stops and keeps what it learned, an evaluation is
        abandoned (the trained run is kept). quit: the app is going down (no evaluation)."""
        with self._lock:
            if self.status == "queued":
                self.status, self.finished = "cancelled", time.time()
                self.error = "cancelled before it started; nothing was trained"
            elif self.status == "running":
                self.status = "stopping"
            elif self.status == "saving" and self.eval_stop_requested is None and \
                    (self.evaluating or quit):
                self.eval_stop_requested = time.time()
            if self.stop_requested is None:
                self.stop_requested = time.time()
            self.quit = self.quit or quit
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
        self.closed = False
        self.cleaned = clean_workdirs()           # work folders of an app that died
        self._restore()

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
        if self.closed:
            raise JobRefused("the app is shutting down: nothing new is queued")
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
        blocked = self.store.blocked(cfg)
        if blocked:
            raise JobRefused(f"cannot store this training: {blocked}")
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
        """Whether `owner` may stop the job now: while it waits, trains, or evaluates."""
        stoppable = job.status in ("queued", "running") or (
            job.status == "saving" and job.evaluating and job.eval_stop_requested is None)
        return stoppable and (job.owner is None or job.owner == owner)

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
            if p is None or not p.iteration:
                text = "starting…"
            elif not p.its_per_s:                 # a compiled step's first chunk: speed unknown
                text = f"training · {p.iteration:,} of {p.total:,} iterations · measuring speed"
            else:
                eta = f" · about {budget.human_time(p.eta)} left" if p.eta == p.eta else ""
                text = f"training · {p.iteration:,} of {p.total:,} iterations{eta}"
        elif st == "stopping":
            text = "stopping…"
        elif st == "saving":
            what = ("stopping the evaluation; the trained run is kept…" if job.eval_stop_requested
                    else "evaluating what it learned (stored already)…" if job.evaluating
                    else "saving what it learned…")
            text = f"stopped; {what}" if job.stop_requested and not job.eval_stop_requested \
                else what
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
        """Cancel the queue and stop the running job (tests)."""
        with self._lock:
            for j in list(self._queue):
                j.stop()
            if self.current is not None:
                self.current.stop()

    def close(self, timeout: float = CLOSE_WAIT) -> list:
        """The app is going down (SIGTERM, Ctrl-C): nothing new is queued; the waiting jobs are
        cancelled as not run; the running one stops and stores what it learned, without its
        evaluation (waiting up to `timeout` s for it); both are recorded in the runs folder for
        the next app (services.interrupted). Returns the recorded entries."""
        with self._lock:
            self.closed = True
            waiting, cur = self.waiting(), self.current
            now = time.time()
            for j in waiting:
                j.status, j.finished, j.error = "cancelled", now, NOT_RUN
            self._queue.clear()
            if cur is not None and cur.active:
                cur.stop(quit=True)
            self._wake.notify_all()
        deadline = time.time() + timeout
        while cur is not None and cur.active and time.time() < deadline:
            time.sleep(0.05)
        entries = [{"config": j.config.to_dict(), "owner": j.owner, "outcome": "not run",
                    "note": NOT_RUN, "when": now} for j in waiting]
        if cur is not None and cur.stop_requested is not None and cur.stop_requested >= now:
            done = cur.run.info.get("iterations_done", 0) if cur.run is not None else 0
            entries.append({"config": cur.config.to_dict(), "owner": cur.owner,
                            "outcome": "stopped", "when": now,
                            "note": (f"stopped when the app stopped, at {done:,} of "
                                     f"{cur.config.iterations:,} iterations (kept as a partial "
                                     f"run)" if cur.run is not None and cur.run.info.get("partial")
                                     else "stopped when the app stopped; " + (cur.error or cur.note
                                                                            or cur.status))})
        interrupted.record(self.store.roots[0], entries)
        return entries

    def _restore(self) -> None:
        """List what the previous app on this runs folder left undone (services.interrupted)."""
        entries, problems = interrupted.take(self.store.roots[0])
        for e in entries:
            cfg = e["cfg"]
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e["when"]))
            job = Job(cfg, e["owner"], created=e["when"], finished=e["when"])
            if e["outcome"] == "not run":
                job.status, job.error = "cancelled", f"{e['note']} ({when})"
            else:
                job.run = self.store.get(cfg)
                job.status = "stopped"
                if job.run is None:
                    job.error = f"{e['note']} ({when})"
                else:
                    job.note = f"{e['note']} ({when})"
            self._jobs.setdefault(cfg.key(), job)
        self.restore_problems = problems

    # ------------------------------------------------------------------ the worker
    def _loop(self):
        while True:
            with self._lock:
                while not self.waiting() or self.closed:
                    self._queue.clear()
                    if self.closed:
                        self._worker = None
                        return
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
                "workdir": workdir, "snapshot": snapshot,
                "evaluate": not (job.quit or job.eval_stop_requested)}

    def _run(self, job: Job):
        workdir = make_workdir()
        children = []
        try:
            child = Child(self._spec(job, workdir))
            children.append(child)
            job.pid = child.proc.pid
            out = self._watch(job, child)
            if out == "killed":                # stopped inside a long computation
                if job.saved:                  # (in the evaluation: the run is stored)
                    self._kept(job)
                else:
                    self._finish_from(job, self._snapshot, workdir, children)
            elif out == "died":
                job.status = "failed"
                job.error = child.death()
        finally:
            job.pid = None
            for c in children:
                c.close()
            shutil.rmtree(workdir, ignore_errors=True)

    def _watch(self, job: Job, child: Child) -> str:
        """Follow one child until it reports the end ("ended"), dies ("died") or is killed
        because it did not stop within STOP_GRACE ("killed"). Sends it the stops asked for;
        applies the time limit in every phase."""
        self._snapshot, sent = None, 0
        while True:
            ev = child.next(0.05)
            self._limit(job)
            if job._stop.is_set():
                want = 2 if job.eval_stop_requested else 1
                if job.quit and sent < 3:
                    child.ask_stop("quit")
                    sent = 3
                elif sent < want and (want == 1 and job.status == "stopping"
                                      or want == 2 and job.evaluating):
                    child.ask_stop("stop")
                    sent = want
            asked = job.eval_stop_requested if job.status == "saving" else \
                job.stop_requested if job.status == "stopping" else None
            if asked is not None and time.time() - asked > STOP_GRACE and \
                    (job.status == "stopping" or job.saved):
                child.kill()                       # inside a long computation: abandon it
                if job.status == "stopping":
                    job.status = "saving"          # it computes nothing more from now on
                return "killed"
            if ev is None:
                if child.finished():
                    return "died"
                continue
            what = ev.get("event")
            if what == "progress":
                self._progress(job, ev)
            elif what == "snapshot":
                self._snapshot = ev
            elif what == "phase":
                job.status = "saving"
                job.evaluating = ev.get("phase") == "evaluating"
            elif what == "saved":
                job.saved = True
                job.note = ev.get("note") or job.note
            elif what in ("done", "failed"):
                self._end(job, ev)
                return "ended"

    def _limit(self, job: Job) -> None:
        """The app's time limit covers every phase: training stops, an evaluation is abandoned."""
        if job.started is None or time.time() - job.started <= self.max_seconds:
            return
        if job.status == "running" or (job.status == "saving" and job.evaluating
                                        and job.eval_stop_requested is None):
            job.note = (f"stopped at the app's limit of {budget.human_time(self.max_seconds)} "
                        f"per training")
            job.stop()

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
        limit = job.note if "limit" in job.note else ""
        note = {"replaced": ev.get("note") or "",
                "reused": "an equal or better run of this config was stored meanwhile: "
                          "it is used"}.get(ev.get("action"), "")
        if not ev.get("evaluated", True) and ev.get("action") != "reused":
            note = "; ".join(x for x in (note, UNEVALUATED) if x)
        job.note = "; ".join(x for x in (limit, note) if x)
        job.run = self.store.get(job.config)
        job.status = "stopped" if ev.get("partial") or (job.eval_stop_requested and not
                                                         ev.get("evaluated", True)) else "done"
        if job.status == "stopped" and job.run is None:
            job.status, job.error = "failed", "training failed: the stored run could not be read"

    def _kept(self, job: Job):
        """The child was killed while evaluating: its trained run is stored already."""
        job.run = self.store.get(job.config)
        if job.run is None:
            job.status, job.error = "failed", "training failed: the stored run could not be read"
            return
        limit = job.note if "limit" in job.note else ""
        job.note = "; ".join(x for x in (limit, UNEVALUATED) if x)
        job.status = "stopped"

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
        out = self._watch(job, child)
        if out == "killed":
            self._kept(job)
        elif out == "died":
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


def submitted_message(jobs: list, since: float) -> str:
    """What a press of Start did, for jobs returned by submit/submit_many called at `since`:
    which were queued now, which were trained already (stored), which were waiting or training
    already. E.g. 'Queued: MAML seed 1 (about 2 min). Already trained: MAML seed 0.'"""
    def name(j):
        return f"{get_algorithm(j.config.algo).label} seed {j.config.seed}"

    groups = {"Queued": [], "Already trained": [], "Already waiting or training": []}
    for j in jobs:
        if j.status in ("done", "stopped"):
            groups["Already trained"].append(name(j) + (" (stopped early)" if j.status == "stopped"
                                                        else ""))
        elif j.active and j.created >= since:
            groups["Queued"].append(name(j) + (f" (about {budget.human_time(j.estimate.seconds)})"
                                               if j.estimate else ""))
        elif j.active:
            groups["Already waiting or training"].append(name(j))
    return " ".join(f"{k}: {', '.join(v)}." for k, v in groups.items() if v)


def run_label(cfg: TrainConfig) -> str:
    """A run in plain words: 'MAML on Sine waves (K=10, 20,000 iterations, seed 0)' (a formula
    family names its formula and ranges instead of its label)."""
    fam = get_family(cfg.family)
    return (f"{get_algorithm(cfg.algo).label} on {fam.options_label(cfg.family_options) or fam.label} "
            f"(K={cfg.k_shot}, {cfg.iterations:,} iterations, seed {cfg.seed})")
