"""Streamlit helpers shared by the pages: the process-wide store and job manager, the sidebar,
run lookup with a "train it now" fallback, a polling progress panel, a page's settings kept in
the session and mirrored in the URL (`View`), the run picker and the "copy link" button. (This
folder is not a page: Streamlit only lists .py files directly inside pages/.) torch and the
engine are imported lazily, so that the home page can draw from precomputed data before torch
has loaded."""
from __future__ import annotations

import atexit
import os
import threading
import weakref
from pathlib import Path
from urllib.parse import quote

import streamlit as st

from maml_viz.views.links import read_query, run_label
from maml_viz.views.text import esc  # noqa: F401  (pages: ui.esc)

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets" / "runs"
RUNS = Path(os.environ.get("MAML_VIZ_RUNS", ROOT / "runs"))
_ready = threading.Event()     # set once the cached backend exists (a flag, not app state)


def _engine():
    """Import torch and the whole package once per server, one session at a time
    (pages/_shared/preload.py): the Learn page's way into the engine."""
    import pages._shared.preload  # noqa: F401


class Backend:
    def __init__(self):
        _engine()
        import torch

        from maml_viz.engine.train import device_name, resolve_device
        from maml_viz.runs.store import RunStore
        from maml_viz.services.jobs import JobManager
        from maml_viz.services.work import SharedWork

        torch.set_num_threads(1)
        self.device = resolve_device(os.environ.get("MAML_VIZ_DEVICE", "auto"))
        self.device_name = device_name(self.device)
        self.store = RunStore([RUNS, ASSETS], self.device)
        self.jobs = JobManager(self.store, self.device)
        self.work = SharedWork(self.device, max_seconds=self.jobs.max_seconds)
        # `streamlit run` stopped (SIGTERM, Ctrl-C) returns from its main loop: then the running
        # job keeps what it learned and the waiting ones are recorded (JobManager.close)
        atexit.register(_close, weakref.ref(self))


def _close(ref):
    b = ref()
    if b is not None:
        b.work.close()
        b.jobs.close()


@st.cache_resource(show_spinner=False)
def backend() -> Backend:
    b = Backend()
    _ready.set()
    return b


def setup(title: str, icon: str = "🧭", light: bool = False):
    """Page config and sidebar. light=True does not load the engine if it is not loaded yet."""
    st.set_page_config(page_title=f"{title} · maml-viz", page_icon=icon, layout="wide")
    b = backend() if (not light or _ready.is_set()) else None
    with st.sidebar:
        st.page_link("app.py", label="Learn", icon=":material/school:")
        st.page_link("pages/1_Playground.py", label="Playground", icon=":material/tune:")
        st.page_link("pages/2_Train.py", label="Train", icon=":material/model_training:")
        st.page_link("pages/3_Compare.py", label="Compare", icon=":material/compare:")
        st.page_link("pages/4_Navigation.py", label="Navigation (RL)", icon=":material/explore:")
        st.page_link("pages/5_Handwriting.py", label="Handwriting", icon=":material/draw:")
        st.divider()
        if b is None:
            return None
        (training_now_live if b.jobs.active() else training_now)()
        with st.expander("Advanced"):
            st.caption(f"Computing on: {b.device_name}. Trained networks kept in memory for quick "
                       f"reuse: {len(b.store)}.")
    return b


def session_id() -> str:
    """This browser session's id: jobs remember who started them (only they can stop them)."""
    import uuid
    return st.session_state.setdefault("_session_id", uuid.uuid4().hex)


def training_now():
    """The sidebar's line about training, from the job list itself (all sessions)."""
    jobs = backend().jobs
    running, waiting = jobs.running(), jobs.waiting()
    if running:
        st.markdown(f"**Training now:** {', '.join(label(j.config.algo) for j in running)}"
                    + (f" ({len(waiting)} waiting)" if waiting else ""))
    if st.session_state.get("_sidebar_training") and not running and not waiting:
        st.session_state._sidebar_training = False
        st.rerun()                              # redraw the page: it may show the new runs
    st.session_state._sidebar_training = bool(running or waiting)


training_now_live = st.fragment(run_every=2.0)(training_now)


def label(algo: str) -> str:
    from maml_viz.engine.algorithms import get_algorithm
    return get_algorithm(algo).label


def algos(include_baselines=True, family=None) -> list:
    """Registered algorithms (those that apply to `family`, if given)."""
    from maml_viz.engine.registry import algorithms_for
    return algorithms_for(family, baselines=include_baselines)


def family_class(name: str):
    from maml_viz.engine.tasks import FAMILIES
    return FAMILIES[name]


def families(supervised=None) -> list:
    """Registered task families (only the supervised ones, or only the others). The supervised
    ones are those the Playground and Compare pages can draw: inputs on a line or in the plane
    (images, Omniglot's, have the Handwriting page instead)."""
    from maml_viz.engine.registry import families as registered
    names = registered(supervised)
    return [n for n in names if getattr(family_class(n), "point_inputs", True)] if supervised \
        else names


def family_label(name: str) -> str:
    return family_class(name).label


def config_for(family: str, algo: str, **kw):
    _engine()
    from maml_viz.engine.registry import make_config
    return make_config(family=family, algo=algo, **kw)


def get_run(cfg):
    """The stored run for cfg, or None. A damaged run file shows an error instead of crashing."""
    from maml_viz.runs.files import StoreError
    try:
        return backend().store.get(cfg)
    except StoreError as e:
        st.error(f"A stored run could not be read: {esc(e)}")
        return None


def runs_or_train(cfgs: list, key: str):
    """Runs for every config; for missing ones, offer to train them (in the background) and
    show live progress. Returns {algo: run} for those available now."""
    have, missing = {}, []
    for cfg in cfgs:
        run = get_run(cfg)
        if run is not None and not run.info.get("partial"):
            have[cfg.algo] = run
        else:
            missing.append(cfg)
            if run is not None:
                have[cfg.algo] = run
    offer_training(missing, key)
    return have


def offer_training(missing: list, key: str):
    """For configs that are not trained: a "Train now" button and, while they train, progress."""
    if not missing:
        return
    b = backend()
    jobs = [b.jobs.get(c.key()) for c in missing]
    if not any(j is not None and j.active for j in jobs):
        names = ", ".join(f"{label(c.algo)} ({c.iterations:,} iterations)" for c in missing)
        st.info(f"Not trained yet: {names}. Training runs in the background; you can keep "
                f"using the app meanwhile.")
        for path, why in (d for c in missing for d in b.store.damage(c)):
            st.warning(f"The stored copy {esc(path)} is damaged ({esc(why)}); training replaces it.")
        if st.button("Train now", key=f"train-{key}", type="primary",
                     help="Start training these settings in the background"):
            from maml_viz.services.jobs import JobRefused
            try:
                for c in missing:
                    b.jobs.submit(c, owner=session_id())
            except JobRefused as e:
                st.error(f"Could not start the training: {esc(e)}")
            else:
                st.rerun()
    progress_panel([c.key() for c in missing], key)


@st.fragment(run_every=1.0)
def progress_panel(keys: list, key: str = ""):
    """Live progress of the jobs with these keys; reruns the page when they finish."""
    b = backend()
    jobs = [b.jobs.get(k) for k in keys]
    jobs = [j for j in jobs if j is not None]
    if not jobs:
        return
    for j in jobs:
        p = j.progress
        if j.status == "failed":
            st.error(f"{label(j.config.algo)}: {esc(j.error)}")
            continue
        if p and p.its_per_s:
            eta = f", about {p.eta:.0f} s left" if j.active and p.eta == p.eta else ""
            text = (f"{label(j.config.algo)}: {j.status}, iteration {p.iteration:,} of "
                    f"{p.total:,} · {p.its_per_s:.0f} it/s{eta} · meta-loss {p.loss:.3f}")
        else:
            text = f"{label(j.config.algo)}: {j.status}"
        st.progress(min(max(j.fraction, 0.0), 1.0), text=text)
    if any(j.status in ("done", "stopped") for j in jobs) and \
            st.session_state.get(f"_seen_done_{key}") != sorted(j.key for j in jobs if not j.active):
        st.session_state[f"_seen_done_{key}"] = sorted(j.key for j in jobs if not j.active)
        st.rerun()


def evaluations(runs: dict, k: int, steps: int) -> dict | None:
    """{run key: its error-against-steps curve at K = k} (views.compare.evaluation), each
    computed at most once for everyone (services.work): estimated first, a cheap one now, a long
    one in the background with its progress, one beyond the Train page's budget refused. None
    while some are computing (a progress panel reruns the page when they are done) or if one
    was refused (the page says why): the caller stops there."""
    from maml_viz.runs.budget import Estimate
    from maml_viz.runs.files import signature
    from maml_viz.views.compare import evaluation, evaluation_cost
    b = backend()
    asks = {}
    for key, run in runs.items():
        sig = signature(Path(run.path)) if run.path else None
        asks[key] = (("curve", key, run.path, sig, k, steps),
                     evaluation_cost(run, k, steps, device=b.device))
    new = [est for what, est in asks.values() if est and not b.work.cached(what)]
    total = Estimate("evaluation", max((e.bytes for e in new), default=0),
                     sum(e.seconds for e in new)) if new else None
    why = b.work.refusal(total, session_id())
    if why:
        st.warning(f"The averaged curves at K = {k} over {steps} steps cannot be computed here: "
                   f"{esc(why)}.")
        return None
    tickets = {key: b.work.request(what, lambda run=runs[key]: evaluation(run, k, steps), est,
                                   session_id(), inline=total is None or
                                   total.seconds <= b.work.inline_seconds)
               for key, (what, est) in asks.items()}
    bad = [t for t in tickets.values() if t.status in ("refused", "failed")]
    if bad:
        st.warning(f"The averaged curves at K = {k} over {steps} steps cannot be computed here: "
                   f"{esc(bad[0].error)}.")
        return None
    if all(t.status == "done" for t in tickets.values()):
        return {key: t.result for key, t in tickets.items()}
    work_panel(list(tickets.values()), k, steps)
    return None


@st.fragment(run_every=1.0)
def work_panel(tickets: list, k: int, steps: int):
    """Progress of background computations; reruns the page when they are all done."""
    work = backend().work
    if all(t.status != "waiting" and t.status != "running" for t in tickets):
        st.rerun()
    left = max(t.left() for t in tickets)
    pos = [p for t in tickets if (p := work.position(t))]
    where = f" · {min(pos)} in line" if pos else ""
    st.progress(sum(t.fraction for t in tickets) / len(tickets),
                text=f"Evaluating {len(tickets)} run(s) on held-out tasks at K = {k} over {steps} "
                     f"steps, in the background: about {max(1, round(left))} s left{where}. The "
                     f"charts appear when it is done; you can change the settings meanwhile.")


def partial_warning(run):
    if run.info.get("partial"):
        st.warning(f"This run was stopped early ({run.info.get('iterations_done', 0):,} of "
                   f"{run.config.iterations:,} iterations): it shows what was learned so far.")


def config_error(e):
    if hasattr(e, "problem"):                   # a data file, not a setting (omniglot_asset)
        st.error(f"The handwriting data cannot be used: {esc(str(e).split(': ', 1)[-1])}")
        return
    st.error(f"Invalid setting {esc(e.field)}: {esc(str(e).split(': ', 1)[-1])}")


def omniglot_ok() -> bool:
    """Whether the Omniglot data file checks out; if not, says why (AssetError) and False."""
    from maml_viz.engine.config import ConfigError
    from maml_viz.engine.tasks.omniglot import load_asset
    try:
        load_asset()
    except ConfigError as e:
        config_error(e)
        return False
    return True


# ----------------------------------------------------------------------------- settings and links
class View:
    """A page's settings, kept across page visits and mirrored in the URL's query string.

    A setting comes from the link when the link's value is new (a shared link opened in a fresh
    browser, an "Open in Playground" button), else from what this session last chose on the
    page, else from the default. Widgets are created with key=view.seed(name, default, options)
    and no value of their own; publish() writes the settings back to the URL at the end."""

    def __init__(self, page: str, casts: dict):
        ss = st.session_state
        self.page = page
        self.kept = ss.setdefault(f"_view_{page}", {})            # not a widget key: survives
        written = ss.get(f"_view_{page}_url", {})                  # what this page last wrote
        params = st.query_params.to_dict()
        values, self.problems = read_query(params, casts)
        self.fresh = {k: v for k, v in values.items() if params.get(k) != written.get(k)}
        self.scopes = {}
        for p in self.problems:
            st.warning(esc(p))

    def key(self, name: str, scope: str = "") -> str:
        return f"{self.page}_{name}" + (f"_{scope}" if scope else "")

    def get(self, name: str, default=None, scope: str = ""):
        return self.kept.get(f"{name}@{scope}" if scope else name, default)

    def seed(self, name: str, default, options=None, scope: str = "") -> str:
        """Put the setting into the widget's state before the widget is created; returns the
        widget's key. scope: a setting kept separately per scope (e.g. α per run)."""
        k, ss = self.key(name, scope), st.session_state
        kept = f"{name}@{scope}" if scope else name
        self.scopes[name] = kept
        forced = name in self.fresh
        if forced:                      # the link's value applies to the current scope
            self.kept[kept] = self.fresh.pop(name)
        value = self.kept.get(kept, default)
        if isinstance(value, list):                         # a multiselect: keep what exists
            value = [v for v in value if options is None or v in options]
            bad = k in ss and not all(v in options for v in ss[k])
        else:
            if options is not None and value not in options:
                value = default if default in options else options[0]
            bad = options is not None and k in ss and ss[k] not in options
        if forced or k not in ss or bad:
            ss[k] = value
        return k

    def take(self, name: str, default):
        """A setting that is not a widget (the step, a task number): the link's, else kept."""
        if name in self.fresh:
            self.kept[name] = self.fresh.pop(name)
        return self.kept.get(name, default)

    def publish(self, **values):
        """Remember the settings and write them into the URL (None: left out)."""
        for k, v in values.items():
            if v is not None:
                self.kept[self.scopes.get(k, k)] = v
        text = {k: _text(v) for k, v in values.items() if v is not None}
        st.session_state[f"_view_{self.page}_url"] = text
        if st.query_params.to_dict() != text:
            st.query_params.from_dict(text)


def _text(v) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(_text(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def share_link():
    """The "copy link" button (the URL already holds the page's settings and the chart's step),
    and the script that keeps the step in the URL (pages/_shared/stepsync.js)."""
    js = (Path(__file__).parent / "stepsync.js").read_text()
    st.html(f"""<script>{js}</script>
<button data-maviz-copy="1" title="Copies this page's address: it opens the same
 chart, with the same settings and step, in any browser" style="width:100%;padding:0.4rem;
 border:1px solid rgba(49,51,63,0.2);border-radius:0.5rem;background:white;cursor:pointer;
 font:inherit">Copy link to this view</button>""", unsafe_allow_javascript=True)


def run_link(page: str, **params) -> str:
    """A relative link that opens `page` with these settings (e.g. run=<key>)."""
    return page + "?" + "&".join(f"{k}={quote(_text(v))}" for k, v in params.items())


# ----------------------------------------------------------------------------- the run picker
def _listing_signature() -> tuple:
    sig = []
    for root in backend().store.roots:
        try:
            sig += [(e.path, e.stat().st_mtime_ns) for e in os.scandir(root) if e.is_dir()]
        except OSError:
            pass
    return tuple(sorted(sig))


@st.cache_data(show_spinner=False, max_entries=8)
def _listing(signature: tuple) -> list:
    return [dict(r, when=os.path.getmtime(r["path"])) for r in backend().store.list()
            if r["config"] is not None]


def find_run(key: str):
    """The stored run summary with this key (any family), or None."""
    return next((r for r in _listing(_listing_signature()) if r["key"] == key), None)


def stored_runs(family: str, algo: str | None = None) -> list:
    """Summaries of every stored run of the family (and algorithm), bundled and the user's."""
    return [r for r in _listing(_listing_signature()) if r["config"].family == family
            and (algo is None or r["config"].algo == algo)]


def run_choices(family: str, algos: list) -> tuple[dict, dict]:
    """({key: label}, {key: config}) for every stored run of the family with one of `algos`,
    the default configs first (trained or not: an untrained one offers to train)."""
    labels, cfgs = {}, {}
    for a in algos:
        d = config_for(family, a)
        labels[d.key()], cfgs[d.key()] = f"{label(a)} · default settings, not trained yet", d
    for r in sorted(stored_runs(family), key=lambda r: -r["when"]):
        c = r["config"]
        if c.algo not in algos:
            continue
        labels[r["key"]] = run_label(c, r["training"], config_for(family, c.algo),
                                     r.get("read_only"), r["when"], label(c.algo))
        cfgs[r["key"]] = c
    return labels, cfgs


def open_runs(cfgs: list, key: str) -> dict:
    """{run key: run} for the picked configs that are stored (a run stopped early included: the
    page says so); offers to train the others."""
    have = {c.key(): r for c in cfgs if (r := get_run(c)) is not None}
    offer_training([c for c in cfgs if c.key() not in have], key)
    return have
