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
from pages._shared import present

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

        torch.set_num_threads(1)
        self.device = resolve_device(os.environ.get("MAML_VIZ_DEVICE", "auto"))
        self.device_name = device_name(self.device)
        self.store = RunStore([RUNS, ASSETS], self.device)
        self.jobs = JobManager(self.store, self.device)
        # `streamlit run` stopped (SIGTERM, Ctrl-C) returns from its main loop: then the running
        # job keeps what it learned and the waiting ones are recorded (JobManager.close)
        atexit.register(_close, weakref.ref(self))


def _close(ref):
    b = ref()
    if b is not None:
        b.jobs.close()


@st.cache_resource(show_spinner=False)
def backend() -> Backend:
    b = Backend()
    _ready.set()
    return b


def setup(title: str, icon: str = "🧭", light: bool = False):
    """Page config and sidebar. light=True does not load the engine if it is not loaded yet."""
    st.set_page_config(page_title=f"{title} · maml-viz", page_icon=icon, layout="wide")
    present.apply(title)                      # ?hide=... and presenter mode's bigger type
    b = backend() if (not light or _ready.is_set()) else None
    with st.sidebar:
        st.page_link("app.py", label="Learn", icon=":material/school:")
        st.page_link("pages/1_Playground.py", label="Playground", icon=":material/tune:")
        st.page_link("pages/2_Train.py", label="Train", icon=":material/model_training:")
        st.page_link("pages/3_Compare.py", label="Compare", icon=":material/compare:")
        st.page_link("pages/4_Navigation.py", label="Navigation (RL)", icon=":material/explore:")
        st.page_link("pages/5_Handwriting.py", label="Handwriting", icon=":material/draw:")
        st.page_link("pages/6_Inside.py", label="Inside the network", icon=":material/biotech:")
        st.html(f"<script>{(Path(__file__).parent / 'sidebar.js').read_text()}</script>",
                unsafe_allow_javascript=True)    # on a phone, close the sidebar after a choice
        glossary()
        st.divider()
        if b is None:
            return None
        one_thread()
        (training_now_live if b.jobs.active() else training_now)()
        if present.demo():                # a projector shows no researcher diagnostics
            return b
        with st.expander("Advanced"):
            st.caption(f"Computing on: {b.device_name}. Trained networks kept in memory for quick "
                       f"reuse: {len(b.store)}.")
        owner_cookie()
    return b


def one_thread():
    """torch's intra-op threads for the calling thread. Streamlit runs each script run (and each
    fragment run) in a new thread, where torch starts from one thread per core whatever
    set_num_threads said elsewhere: on this 2-core machine, under load, the first Navigation
    rollouts of a run then took 5-16 s instead of 0.3 s. Call at the top of every script run
    and fragment that computes with torch."""
    import torch
    torch.set_num_threads(1)


@st.cache_resource(show_spinner=False)
def memo(name: str):
    """A memo shared by every session, one per name (services.memo: values by key, and a
    background worker that computes what will probably be asked next)."""
    from maml_viz.services.memo import Memo
    return Memo(init=one_thread)


def glossary():
    """The app's glossary (maml_viz/views/glossary.py), the same on every page: a popover."""
    from maml_viz.views.glossary import as_markdown
    with st.popover("Glossary", icon=":material/menu_book:", width="stretch",
                    help="What the words on these pages mean, in plain words"):
        st.markdown(as_markdown())


OWNER_COOKIE = "maml_viz_owner"


def session_id() -> str:
    """Who is using the app, for the jobs they start (only they can stop them): this browser's
    token, kept in a cookie that every tab of the browser sends (owner_cookie writes it), so
    that a person's jobs stay theirs in a new tab; another browser has another token. A fresh
    browser gets a new random token."""
    import re
    import uuid
    ss = st.session_state
    if "_session_id" not in ss:
        token = str(st.context.cookies.get(OWNER_COOKIE) or "")
        ss["_session_id"] = token if re.fullmatch(r"[0-9a-f]{32}", token) else uuid.uuid4().hex
    return ss["_session_id"]


def owner_cookie():
    """Keep this session's owner token in the browser (a cookie for this site only, a year),
    unless the browser has one already: the next tab's session reads it (session_id)."""
    st.html(f"""<script>(function () {{
  if (!document.cookie.split('; ').some((c) => c.startsWith('{OWNER_COOKIE}=')))
    document.cookie = '{OWNER_COOKIE}={session_id()}; path=/; max-age=31536000; SameSite=Strict';
}})();</script>""", unsafe_allow_javascript=True)


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


def stored_runs(family: str, algo: str | None = None, options: dict | None = None) -> list:
    """Summaries of every stored run of the family (and algorithm; and family options, e.g. one
    formula of the formula family), bundled and the user's."""
    return [r for r in _listing(_listing_signature()) if r["config"].family == family
            and (algo is None or r["config"].algo == algo)
            and (options is None or r["config"].family_options == options)]


def run_choices(family: str, algos: list, options: dict | None = None) -> tuple[dict, dict]:
    """({key: label}, {key: config}) for every stored run of the family with one of `algos`
    (and these resolved family options, if given), the default configs first (trained or not:
    an untrained one offers to train)."""
    labels, cfgs = {}, {}
    for a in algos:
        d = config_for(family, a, family_options=options)
        labels[d.key()], cfgs[d.key()] = f"{label(a)} · default settings, not trained yet", d
    for r in sorted(stored_runs(family, options=options), key=lambda r: -r["when"]):
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
