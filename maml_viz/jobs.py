"""Background training for a UI: jobs run in worker threads, in chunks, and can be polled or
stopped. No Streamlit here: the app caches one `JobManager` per process and polls it.

- Submitting a config that is already training returns the same job (two sessions asking for
  the same config train it once and both see its progress).
- Submitting a config that is already stored returns a finished job at once.
- Stopping keeps what was learned so far: the run is evaluated, marked partial and stored.
- Divergence (NaN/inf) ends the job with a clear message and stores nothing.
- One job trains at a time (small CPUs); others wait in the queue.
"""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

from .config import TrainConfig
from .evaluate import evaluate, to_json
from .train import Progress, Trainer, TrainingDiverged


@dataclass
class Job:
    config: TrainConfig
    status: str = "queued"          # queued | running | done | stopped | failed
    progress: Progress | None = None
    history: dict = field(default_factory=lambda: {"iteration": [], "meta_loss": []})
    error: str | None = None
    run: object = None
    created: float = field(default_factory=time.time)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def key(self) -> str:
        return self.config.key()

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def fraction(self) -> float:
        if self.status in ("done", "stopped"):
            return 1.0
        if not self.progress or not self.progress.total:
            return 0.0
        return self.progress.iteration / self.progress.total

    def stop(self):
        self._stop.set()


class JobManager:
    def __init__(self, store, device="cpu", chunk: int = 100, eval_tasks: int | None = None):
        self.store, self.device, self.chunk, self.eval_tasks = store, device, chunk, eval_tasks
        self._jobs: dict = {}
        self._lock = threading.Lock()
        self._slot = threading.Semaphore(1)   # one training at a time

    def submit(self, cfg: TrainConfig) -> Job:
        cfg.validate()
        key = cfg.key()
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and (job.active or job.status == "done"):
                return job
            existing = self.store.get(cfg)
            if existing is not None and not existing.info.get("partial"):
                job = Job(cfg, status="done", run=existing)
                self._jobs[key] = job
                return job
            job = Job(cfg)
            self._jobs[key] = job
        threading.Thread(target=self._work, args=(job,), daemon=True,
                         name=f"train-{key}").start()
        return job

    def get(self, key: str) -> Job | None:
        return self._jobs.get(key)

    def jobs(self) -> list:
        return sorted(self._jobs.values(), key=lambda j: j.created)

    def active(self) -> list:
        return [j for j in self.jobs() if j.active]

    def forget(self, key: str) -> None:
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and not job.active:
                del self._jobs[key]

    def _work(self, job: Job):
        with self._slot:
            if job._stop.is_set():
                job.status = "stopped"
                job.error = "stopped before it started; nothing was trained"
                return
            try:
                job.status = "running"
                tr = Trainer(job.config, self.device)
                job.progress = tr.progress(float("nan"))
                while not tr.done and not job._stop.is_set():
                    job.progress = tr.run(self.chunk)
                    job.history = {"iteration": list(tr.history["iteration"]),
                                   "meta_loss": list(tr.history["meta_loss"])}
                run = tr.result()
                run.metrics = to_json(evaluate(run, n_tasks=self.eval_tasks))
                job.run = self.store.put(run)
                job.status = "stopped" if run.info["partial"] else "done"
            except TrainingDiverged as e:
                job.status, job.error = "failed", str(e)
            except Exception as e:  # keep the app alive; report what happened
                job.status = "failed"
                job.error = f"training failed: {type(e).__name__}: {e}"
                traceback.print_exc()
