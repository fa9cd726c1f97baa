"""How the trainer runs the meta-iterations of a supervised family: eagerly, compiled by
torch.compile (Inductor), or replayed from a CUDA graph.

A meta-iteration is `algo.step(model, family, params, opt, batch, cfg)`: the inner loop, the
meta-gradient and the optimiser's update, in place, as a fixed sequence of tensor operations with
no host synchronisation. The trainer draws a chunk of batches at once (`family.sample_batches`,
on the device: the same numbers as one batch at a time) and a stepper returns the chunk's losses
as one tensor on the device, which the trainer reads once per chunk (progress, history, NaN/inf).

- `Eager`: a Python loop over the iterations of the chunk. The reference.
- `Compiled`: the same step through torch.compile. On a 2-core CPU the eager step is bound by
  ~130 small kernels; Inductor fuses them (about 3x the throughput) after a one-off compile
  that its on-disk caches shorten in later processes. If compiling fails (no C compiler, ...)
  it says so in one line and runs eagerly.
- `CudaGraph`: the step captured once into a CUDA graph that reads its batch from a static
  buffer at a device-side index and writes its loss into a device buffer, so an iteration is one
  graph replay (one launch instead of ~150). The first iterations run eagerly (warm-up); if the
  capture fails it says so in one line and goes on without a graph. With capture=False the
  very same code runs without capturing: that is how the tests check it on a CPU.

`choose` picks one: on a GPU a CUDA graph (of the compiled step with compile=True); on the CPU
the compiled step when the run is long enough to repay the compilation and a C compiler exists,
else eager. Compiled and eager steps agree to float32 rounding, not bit for bit; each is
deterministic on the CPU (same config, same path -> same bytes). See the README, "Speed".
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil

import torch

from . import cancel

# Compile on the CPU by default for runs of at least this many iterations: the break-even of the
# compile (benchmarks/speed.py, README "Speed"; measured on the 2-core development machine): the
# step compiled before in this cache ("warm": only loaded), or never ("cold": a new graph).
COMPILE_MIN_ITERATIONS = {"warm": 5000, "cold": 10000}
WARMUP = 3                      # eager iterations before a CUDA graph is captured
CAPACITY = 256                  # iterations a CUDA graph's batch buffer holds (at most)
BUFFER_BYTES = 256 * 2**20      # ... and at most this many bytes of batches


def has_c_compiler() -> bool:
    """Whether Inductor can build CPU kernels here (it looks for $CXX, else g++)."""
    cxx = os.environ.get("CXX") or "g++"
    return shutil.which(cxx) is not None


def cache_dir() -> str:
    """Where torch keeps compiled kernels and graphs between processes: $TORCHINDUCTOR_CACHE_DIR,
    by default ~/.cache/maml-viz/torchinductor (torch's own default lives in /tmp)."""
    path = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if not path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "maml-viz", "torchinductor")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = path
    return path


def one_line(err: BaseException) -> str:
    """The root cause of an error, in one short line (torch wraps compiler errors)."""
    while (inner := err.__cause__ or getattr(err, "inner_exception", None)) is not None:
        err = inner
    lines = [x.strip() for x in str(err).splitlines() if x.strip()]
    return f"{type(err).__name__}: {lines[0][:160] if lines else ''}".rstrip(": ")


def signature(cfg, device: torch.device) -> str:
    """What a compiled step depends on (shapes and the constants baked into it), as a name."""
    d = {k: v for k, v in cfg.to_dict().items() if k not in ("iterations", "seed")}
    blob = json.dumps([torch.__version__, device.type, d], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _marker(sig: str) -> str:
    return os.path.join(cache_dir(), "maml-viz-compiled", sig)


def is_warm(sig: str) -> bool:
    """Whether this step was compiled here before (its artefacts are then only loaded)."""
    return os.path.exists(_marker(sig))


def mark_warm(sig: str) -> None:
    try:
        os.makedirs(os.path.dirname(_marker(sig)), exist_ok=True)
        open(_marker(sig), "w").close()
    except OSError:                   # a read-only cache only costs the next run its guess
        pass


def choose(device: torch.device, iterations: int, compiled: bool | None = None,
           cuda_graph: bool | None = None, warm: bool = False, static: bool = True) -> tuple:
    """(mode, notice): mode is 'eager', 'compiled', 'cuda-graph' or 'compiled+cuda-graph';
    notice is a one-line message when a request cannot be met (else None).
    compiled / cuda_graph: True or False to decide, None to let the device and run length do;
    warm: the step was compiled here before (is_warm), so compiling costs less;
    static: the step is a fixed sequence of kernels (Algorithm.static_step); one that builds an
    autograd graph each iteration (second-order MAML on the conv net) always runs eagerly."""
    if not static:
        asked = [n for n, v in (("torch.compile", compiled), ("CUDA graphs", cuda_graph)) if v]
        notice = (f"{' and '.join(asked)} do not apply to this step (autograd builds its "
                  f"second-order graph each iteration): training eagerly") if asked else None
        return "eager", notice
    notice = None
    graph = device.type == "cuda" and cuda_graph is not False
    if compiled is None:
        need = COMPILE_MIN_ITERATIONS["warm" if warm else "cold"]
        compiled = device.type == "cpu" and iterations >= need
    if compiled and device.type == "cpu" and not has_c_compiler():
        notice = ("no C compiler found (set CXX or install g++): training without torch.compile "
                  "(about 3x slower on the default config)")
        compiled = False
    if cuda_graph and device.type != "cuda":
        notice = notice or "CUDA graphs need a GPU: training without one"
    mode = "+".join(["compiled"] * bool(compiled) + ["cuda-graph"] * graph) or "eager"
    return mode, notice


def make(mode: str, step, example: dict, notify=print, signature=None):
    """A stepper for `step(batch) -> loss` in `mode` (see choose); example: one chunk's batches;
    signature: the step's (see signature()), remembered once it has compiled."""
    if mode.startswith("compiled"):
        step = Compiled(step, notify, signature=signature)
    if mode.endswith("cuda-graph"):
        return CudaGraph(step, example, notify=notify)
    return step if isinstance(step, Eager) else Eager(step)


class Eager:
    mode = "eager"

    def __init__(self, step):
        self.step = step

    def __call__(self, batch):
        return self.step(batch)

    @torch.no_grad()
    def run(self, batches: dict, n: int, opt=None, lrs=None, stop=None) -> torch.Tensor:
        """Up to n iterations on batches (each tensor [n, ...]); lrs: the outer learning rate of
        each iteration (or None); stop(i): checked before iteration i, ends the run early, as
        does a cancel.Cancelled raised inside an iteration (which then changes nothing).
        Returns the losses of the iterations run, on the device."""
        keys = list(batches)
        views = zip(*(batches[k].unbind(0) for k in keys))
        out = []
        for i, vs in enumerate(views):
            if stop is not None and stop(i):
                break
            if lrs is not None:
                opt.lr = lrs[i]
            try:
                out.append(self(dict(zip(keys, vs))))
            except cancel.Cancelled:
                break
        return torch.stack(out) if out else batches[keys[0]].new_zeros(0, dtype=torch.float32)


class Compiled(Eager):
    mode = "compiled"

    def __init__(self, step, notify=print, backend="inductor", signature=None):
        cache_dir()
        self.eager, self.notify, self.signature = step, notify, signature
        self.step = torch.compile(step, dynamic=False, backend=backend)
        self.failed = None

    def __call__(self, batch):
        if self.failed is None:
            try:
                loss = self.step(batch)
                self.failed = False
                if self.signature:
                    mark_warm(self.signature)
                return loss
            except Exception as e:    # no C compiler, an op Inductor lacks, ...: before any update
                self.failed = one_line(e)
                self.notify(f"torch.compile failed ({self.failed}); training eagerly")
                self.step, self.mode = self.eager, "eager"
        return self.step(batch)


class CudaGraph(Eager):
    """One iteration = one replay of a captured graph (see the module doc)."""

    def __init__(self, step, example: dict, capacity: int = CAPACITY, capture: bool = True,
                 warmup: int = WARMUP, notify=print):
        self.step, self.notify = step, notify
        per_iteration = sum(v[0].numel() * v.element_size() for v in example.values())
        capacity = max(1, min(capacity, BUFFER_BYTES // max(1, per_iteration)))
        self.buf = {k: torch.zeros((capacity, *v.shape[1:]), dtype=v.dtype, device=v.device)
                    for k, v in example.items()}
        x = next(v for v in example.values() if v.is_floating_point())
        self.ptr = torch.zeros(1, dtype=torch.long, device=x.device)
        self.losses = torch.zeros(capacity, dtype=x.dtype, device=x.device)
        self.capacity, self.capture, self.warmup = capacity, capture, warmup
        self.graph, self.done = None, 0

    @property
    def mode(self) -> str:
        inner = getattr(self.step, "mode", "eager")      # 'eager' too after a failed compile
        graph = self.capture or self.graph is not None
        return "+".join([inner] * (inner != "eager") + ["cuda-graph"] * graph) or "eager"

    def body(self):
        """The captured work: read batch [ptr], step, write loss [ptr], ptr += 1."""
        batch = {k: v.index_select(0, self.ptr).squeeze(0) for k, v in self.buf.items()}
        loss = self.step(batch)
        self.losses.index_copy_(0, self.ptr, loss.reshape(1).to(self.losses.dtype))
        self.ptr.add_(1)

    def one(self):
        if self.graph is None and self.capture and self.done >= self.warmup:
            self._capture()
        if self.graph is not None:
            self.graph.replay()
        elif self.capture:                 # warm-up, on a side stream as torch's docs advise
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self.body()
            torch.cuda.current_stream().wait_stream(side)
        else:
            self.body()
        self.done += 1

    def _capture(self):
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                self.body()
        except cancel.Cancelled:         # a stop during the capture: capture again next time
            raise
        except Exception as e:           # nothing ran during the failed capture: go on eagerly
            self.capture = False
            self.notify(f"CUDA graph capture failed ({one_line(e)}); training without a graph")
            return
        self.graph = graph

    @torch.no_grad()
    def run(self, batches: dict, n: int, opt=None, lrs=None, stop=None) -> torch.Tensor:
        out, cut = [], False
        for start in range(0, n, self.capacity):
            m = min(self.capacity, n - start)
            for k, v in self.buf.items():
                v[:m].copy_(batches[k][start:start + m])
            self.ptr.zero_()
            done = 0
            for i in range(m):
                if stop is not None and stop(start + i):
                    cut = True
                    break
                if lrs is not None:
                    opt.lr = lrs[start + i]
                try:
                    self.one()
                except cancel.Cancelled:     # raised before the update: the iteration is void
                    cut = True
                    break
                done += 1
            out.append(self.losses[:done].clone())
            if cut:
                break
        return torch.cat(out)
