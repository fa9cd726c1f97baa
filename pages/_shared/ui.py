"""Streamlit helpers shared by the pages: the process-wide store and job manager, the sidebar,
run lookup with a "train it now" fallback, and a polling progress panel. (This folder is not a
page: Streamlit only lists .py files directly inside pages/.) torch and the engine are imported
lazily, so that the home page can draw from precomputed data before torch has loaded."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets" / "runs"
RUNS = Path(os.environ.get("MAML_VIZ_RUNS", ROOT / "runs"))
_ready = threading.Event()     # set once the cached backend exists (a flag, not app state)


class Backend:
    def __init__(self):
        import torch

        from maml_viz.jobs import JobManager
        from maml_viz.store import RunStore
        from maml_viz.train import device_name, resolve_device

        torch.set_num_threads(1)
        self.device = resolve_device(os.environ.get("MAML_VIZ_DEVICE", "auto"))
        self.device_name = device_name(self.device)
        self.store = RunStore([RUNS, ASSETS], self.device)
        self.jobs = JobManager(self.store, self.device)


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
            st.caption("The compute device is shown once a page loads a model.")
            return None
        st.markdown(f"**Device:** {b.device_name}")
        st.markdown(f"**Runs in memory:** {len(b.store)}")
        active = b.jobs.active()
        if active:
            st.markdown(f"**Training now:** {', '.join(label(j.config.algo) for j in active)}")
    return b


def label(algo: str) -> str:
    from maml_viz.algorithms import get_algorithm
    return get_algorithm(algo).label


def algos(include_baselines=True, family=None) -> list:
    """Registered algorithms (those that apply to `family`, if given)."""
    from maml_viz.registry import algorithms_for
    return algorithms_for(family, baselines=include_baselines)


def family_class(name: str):
    from maml_viz.tasks import FAMILIES
    return FAMILIES[name]


def families(supervised=None) -> list:
    """Registered task families (only the supervised ones, or only the others). The supervised
    ones are those the Playground and Compare pages can draw: inputs on a line or in the plane
    (images, Omniglot's, have the Handwriting page instead)."""
    from maml_viz.registry import families as registered
    names = registered(supervised)
    return [n for n in names if getattr(family_class(n), "point_inputs", True)] if supervised \
        else names


def family_label(name: str) -> str:
    return family_class(name).label


def config_for(family: str, algo: str, **kw):
    from maml_viz.registry import make_config
    return make_config(family=family, algo=algo, **kw)


def get_run(cfg):
    """The stored run for cfg, or None. A damaged run file shows an error instead of crashing."""
    from maml_viz.store import StoreError
    try:
        return backend().store.get(cfg)
    except StoreError as e:
        st.error(f"A stored run could not be read: {e}")
        return None


def runs_or_train(cfgs: list, key: str):
    """Runs for every config; for missing ones, offer to train them (in the background) and
    show live progress. Returns {algo: run} for those available now."""
    b = backend()
    have, missing = {}, []
    for cfg in cfgs:
        run = get_run(cfg)
        if run is not None and not run.info.get("partial"):
            have[cfg.algo] = run
        else:
            missing.append(cfg)
            if run is not None:
                have[cfg.algo] = run
    if missing:
        jobs = [b.jobs.get(c.key()) for c in missing]
        running = [j for j in jobs if j is not None and j.active]
        if not running:
            names = ", ".join(f"{label(c.algo)} ({c.iterations:,} iterations)" for c in missing)
            st.info(f"Not trained yet: {names}. Training runs in the background; you can keep "
                    f"using the app meanwhile.")
            if st.button("Train now", key=f"train-{key}", type="primary"):
                for c in missing:
                    b.jobs.submit(c)
                st.rerun()
        progress_panel([c.key() for c in missing], key)
    return have


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
            st.error(f"{label(j.config.algo)}: {j.error}")
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
    st.error(f"Invalid setting {e.field}: {str(e).split(': ', 1)[-1]}")
