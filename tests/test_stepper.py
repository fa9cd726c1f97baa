"""The fast paths of meta-training (stepper.py): chunked sampling, the device-side optimiser, the
CUDA-graph stepper (capture disabled on a CPU, captured on a GPU when there is one), the compiled
step, and the trainer's choice between them. The float64 checks go through the same steppers the
trainer uses and compare them with the plain per-task autograd reference of test_gradients.py.

Runs everywhere; on a machine with a GPU the device-parametrised tests also run on `cuda`, where
the graph is really captured and replayed (benchmarks/gpu_check.sh runs this file there).
"""
import os
import subprocess
import sys

import pytest
import torch
from test_gradients import grads as autograd_grads
from test_gradients import ref_meta_loss

from maml_viz.engine import stepper
from maml_viz.engine.optim import FlatAdam
from maml_viz.engine.registry import make_config
from maml_viz.engine.tasks import make_family
from maml_viz.engine.train import Trainer, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
SUPERVISED = ["maml", "fomaml", "anil", "metasgd", "reptile", "pretrained"]


def small(algo, family="sinusoid", **kw):
    kw.setdefault("iterations", 40)
    kw.setdefault("meta_batch", 6)
    return make_config(algo=algo, family=family, **kw)


@pytest.mark.parametrize("family", ["sinusoid", "linear", "wave", "blobs"])
def test_a_chunk_of_batches_is_the_batches_drawn_one_at_a_time(family):
    fam = make_family(family)
    a, b = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    one_by_one = [fam.sample_batch(7, 4, 9, a) for _ in range(11)]
    chunk = fam.sample_batches(11, 7, 4, 9, b)
    for k, v in chunk.items():
        assert v.shape[0] == 11
        assert torch.equal(v, torch.stack([x[k] for x in one_by_one])), k
    assert torch.equal(torch.rand(5, generator=a), torch.rand(5, generator=b))  # same stream after


def test_device_side_adam_is_bit_for_bit_the_python_one():
    torch.manual_seed(0)
    make = lambda: {"a": torch.randn(7, 3), "b": torch.randn(5), "log_std": torch.randn(2)}
    p1, p2 = make(), None
    p2 = {k: v.clone() for k, v in p1.items()}
    o1 = FlatAdam(p1, 0.01, lr_scale={"log_std": 5.0})
    o2 = FlatAdam(p2, 0.01, lr_scale={"log_std": 5.0})
    for i in range(30):
        if i == 10:                       # switch mid-run: the state carries over
            o2.capturable()
        o1.lr = o2.lr = 0.01 * (1 - i / 40)
        g = [torch.randn_like(v) * (i + 1) for v in p1.values()]
        o1.step(g)
        o2.step([x.clone() for x in g])
    for k in p1:
        assert torch.equal(p1[k], p2[k]), k
    assert o2.steps_taken == o1.steps_taken == 30


def _pair(algo, device, dtype=torch.float32, **kw):
    """Two trainers in the same state and one chunk of batches."""
    cfg = small(algo, **kw)
    trs = [Trainer(cfg, device, compiled=False, cuda_graph=False) for _ in range(2)]
    for tr in trs:
        tr.params = {k: v.detach().to(dtype) for k, v in tr.params.items()}
        if tr.opt is not None:
            tr.opt = tr.algo.make_optimizer(tr.params, cfg)
    gen = torch.Generator(device).manual_seed(5)
    batches = trs[0].family.sample_batches(10, cfg.meta_batch, cfg.k_shot, cfg.k_query, gen)
    batches = {k: v.to(dtype) if v.is_floating_point() else v for k, v in batches.items()}
    return trs, batches


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("algo", SUPERVISED)
def test_graph_stepper_matches_the_eager_loop(algo, device):
    """The CUDA-graph stepper's code (static buffers, device-side index and loss buffer, several
    refills of its buffer, a changing learning rate): captured on a GPU, run as is on a CPU."""
    trs, batches = _pair(algo, device)
    lrs = [0.001 * (1 + i % 3) for i in range(10)]
    eager = stepper.Eager(trs[0]._step)
    if trs[1].opt is not None:
        trs[1].opt.capturable()
    graph = stepper.CudaGraph(trs[1]._step, batches, capacity=4, capture=(device == "cuda"),
                              warmup=2)
    a = eager.run(batches, 10, trs[0].opt, lrs if trs[0].opt else None)
    lr = (lambda x: x) if trs[1].opt else (lambda x: None)
    first = graph.run(batches, 10, trs[1].opt, lr(lrs), stop=lambda i: i == 7)   # a stop request
    assert first.shape[0] == 7
    rest = graph.run({k: v[7:] for k, v in batches.items()}, 3, trs[1].opt, lr(lrs[7:]))
    b = torch.cat([first, rest])
    same = torch.equal if device == "cpu" else (     # a GPU may pick other GEMM kernels in
        lambda x, y: torch.allclose(x, y, rtol=1e-5, atol=1e-6))   # a graph's stream
    if device == "cuda":
        assert graph.graph is not None, "the CUDA graph was not captured"
    assert same(a, b)
    for k in trs[0].params:
        assert same(trs[0].params[k], trs[1].params[k]), k


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("algo", ["maml", "metasgd", "pretrained"])
def test_float64_meta_gradient_through_the_graph_stepper(algo, device):
    """Two iterations through the stepper (on a GPU: the second replayed from the graph) move θ
    exactly as Adam on the plain reference's float64 meta-gradient (a per-task loop,
    autograd.grad with create_graph)."""
    trs, batches = _pair(algo, device, torch.float64, inner_steps=2)
    tr, ref = trs
    cfg, two = tr.cfg, {k: v[:2] for k, v in batches.items()}
    ref_losses = []
    for i in range(2):
        b = {k: v[i] for k, v in batches.items()}
        theta = {k: v.clone().requires_grad_(True) for k, v in ref.params.items()}
        if algo == "pretrained":
            loss = tr.algo.outer_loss(tr.model, tr.family, theta, b, cfg)
        else:
            net = {k: v for k, v in theta.items() if not k.startswith("lr.")}
            lrs = {k[3:]: v for k, v in theta.items() if k.startswith("lr.")} or cfg.inner_lr
            loss = ref_meta_loss(net, b, cfg.inner_steps, lrs)
        ref.opt.step(list(autograd_grads(loss, theta)))
        ref_losses.append(loss.item())
    tr.opt.capturable()
    graph = stepper.CudaGraph(tr._step, two, capacity=2, capture=(device == "cuda"), warmup=1)
    out = graph.run(two, 2, tr.opt, None).tolist()
    assert max(abs(a - b) for a, b in zip(out, ref_losses)) < 1e-12
    for k in tr.params:
        d = (tr.params[k] - ref.params[k]).abs().max() / ref.params[k].abs().max()
        assert d < 1e-12, (k, d.item())


def test_compiled_step_float64_agrees_with_eager_and_is_deterministic():
    """torch.compile'd MAML (second order) against the eager step on the same batches, in
    float64: the same numbers up to rounding; and the compiled step run twice from the same
    state gives the same bytes. (One small compile: this is the suite's slowest test.)"""
    trs, batches = _pair("maml", "cpu", torch.float64, hidden=(8,))
    for tr in trs:
        tr.opt.capturable()
    start = {k: v.clone() for k, v in trs[1].params.items()}
    eager = stepper.make("eager", trs[0]._step, batches).run(batches, 10, trs[0].opt, None)
    from torch._dynamo.utils import counters
    counters.clear()
    comp = stepper.make("compiled", trs[1]._step, batches, notify=pytest.fail)
    first = comp.run(batches, 10, trs[1].opt, None)
    assert comp.mode == "compiled"
    assert not counters["graph_break"], dict(counters["graph_break"])   # one whole graph
    assert torch.allclose(eager, first, rtol=1e-12, atol=0)
    after = {k: v.clone() for k, v in trs[1].params.items()}
    for k, v in trs[0].params.items():
        assert torch.allclose(v, after[k], rtol=1e-10, atol=1e-13), k
    opt = trs[1].opt                       # back to the start, in place: the same compiled code
    for k, v in trs[1].params.items():
        v.copy_(start[k])
    for buf in (opt.m, opt.v, opt._t):
        buf.zero_()
    again = comp.run(batches, 10, opt, None)
    assert torch.equal(first, again)
    for k, v in trs[1].params.items():
        assert torch.equal(v, after[k]), k


def test_a_failed_compile_says_so_in_one_line_and_trains_eagerly():
    def broken(gm, example_inputs):
        raise RuntimeError("no compiler here\nsecond line of a long trace")
    trs, batches = _pair("fomaml", "cpu")
    notes = []
    st = stepper.Compiled(trs[0]._step, notes.append, backend=broken)
    a = st.run(batches, 10, trs[0].opt, None)
    b = stepper.Eager(trs[1]._step).run(batches, 10, trs[1].opt, None)
    assert st.mode == "eager" and len(notes) == 1 and "\n" not in notes[0]
    assert "no compiler here" in notes[0] and "eagerly" in notes[0]
    assert torch.equal(a, b)


def test_the_trainer_chooses_its_path_from_device_length_and_flags(monkeypatch, tmp_path):
    cpu = torch.device("cpu")
    warm, n = stepper.COMPILE_MIN_ITERATIONS["warm"], stepper.COMPILE_MIN_ITERATIONS["cold"]
    assert warm < n
    assert stepper.choose(cpu, n - 1)[0] == "eager"
    assert stepper.choose(cpu, n)[0] == ("compiled" if stepper.has_c_compiler() else "eager")
    assert stepper.choose(cpu, warm, warm=True)[0] == stepper.choose(cpu, n)[0]
    assert stepper.choose(cpu, warm - 1, warm=True)[0] == "eager"
    assert stepper.choose(cpu, n, compiled=False)[0] == "eager"
    mode, note = stepper.choose(cpu, 10, cuda_graph=True)
    assert mode == "eager" and "GPU" in note
    # the compiled step marks its signature warm once it has run (here: a backend that just runs it)
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "c"))
    trs, batches = _pair("fomaml", "cpu")
    sig = stepper.signature(trs[0].cfg, cpu)
    st = stepper.make("compiled", trs[0]._step, batches, signature=sig)
    st.step = torch.compile(trs[0]._step, backend="eager")
    assert not stepper.is_warm(sig)
    st.run(batches, 2, trs[0].opt, None)
    assert stepper.is_warm(sig)
    assert stepper.choose(torch.device("cuda"), 10)[0] == "cuda-graph"
    assert stepper.choose(torch.device("cuda"), 10, compiled=True)[0] == "compiled+cuda-graph"
    assert stepper.choose(torch.device("cuda"), 10**6, cuda_graph=False)[0] == "eager"
    monkeypatch.setenv("CXX", "/nonexistent/c++")
    mode, note = stepper.choose(cpu, n, compiled=True)
    assert mode == "eager" and "C compiler" in note and "\n" not in note
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))
    sig = stepper.signature(small("maml", iterations=1), cpu)
    assert sig == stepper.signature(small("maml", iterations=n, seed=3), cpu)  # not baked in
    assert sig != stepper.signature(small("maml", meta_batch=7), cpu)          # a new graph
    assert not stepper.is_warm(sig)
    stepper.mark_warm(sig)
    assert stepper.is_warm(sig)
    tr = Trainer(small("maml", iterations=n), "cpu")         # long enough, but no compiler
    assert tr.mode == "eager" and len(tr.notices) == 1 and "C compiler" in tr.notices[0]
    assert Trainer(small("maml", family="navigation", iterations=n), "cpu").mode == "eager"


@pytest.mark.parametrize("device", DEVICES)
def test_the_default_path_trains_the_same_run_twice(device):
    """Trainer's own choice (on a GPU: a CUDA graph, captured after the warm-up), twice."""
    cfg = small("maml", iterations=30)
    runs = [train(cfg, device, chunk=12) for _ in range(2)]
    assert runs[0].info["step"] == ("cuda-graph" if device == "cuda" else "eager")
    same = torch.equal if device == "cpu" else (
        lambda x, y: torch.allclose(x, y, rtol=1e-5, atol=1e-6))
    for k in runs[0].params:
        assert torch.isfinite(runs[0].params[k]).all()
        assert same(runs[0].params[k], runs[1].params[k]), k
    assert len(runs[0].history["meta_loss"]) == 30


def test_same_config_same_bytes_however_the_run_is_chunked():
    cfg = small("metasgd", iterations=45)
    a = train(cfg, "cpu", chunk=7)
    b = Trainer(cfg, "cpu")
    for n in (1, 20, 100):
        b.run(n)
    b = b.result()
    c = Trainer(cfg, "cpu")                 # chunks cut short: a time budget, a stop request
    calls = {"n": 0}

    def stop_every_third_call():
        calls["n"] += 1
        return calls["n"] % 3 == 0
    while not c.done:
        c.run(10, max_seconds=0.0)          # one iteration per call, the rest drawn ahead
        c.run(10, stop_every_third_call)
    c = c.result()
    for k in a.params:
        assert torch.equal(a.params[k], b.params[k]), k
        assert torch.equal(a.params[k], c.params[k]), k
    assert a.history["meta_loss"] == b.history["meta_loss"] == c.history["meta_loss"]
    assert a.history["val_metric"] == c.history["val_metric"]
    assert a.info["step"] == "eager"


def test_cli_without_a_c_compiler_notes_it_in_one_line_and_trains(tmp_path):
    env = {**os.environ, "CXX": "/nonexistent/c++"}
    r = subprocess.run([sys.executable, "-m", "maml_viz", "train", "--family", "linear",
                        "--iterations", "30", "--compile", "--eval-tasks", "20", "--quiet",
                        "--device", "cpu",
                        "--runs-dir", str(tmp_path)], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    notes = [line for line in r.stderr.splitlines() if "C compiler" in line]
    assert len(notes) == 1 and "Traceback" not in r.stderr and "Warning" not in r.stderr
    assert "eager" in r.stdout
