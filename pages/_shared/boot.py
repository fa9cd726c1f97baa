"""The first import of every page, before anything else: what the pages need to draw, imported
once per server and one session at a time. Streamlit runs each session's script in its own
thread; eight users arriving on a just-started server would otherwise import pandas, plotly and
the package at the same moment, and Python's import locks can then hand one of them a module
that is still half-initialised ("partially initialized module 'pandas' has no attribute
'Series'"). A thread that imports this module while another one is doing so waits for it to
finish, holding no other import lock: nothing can interleave.

This is the light part, only what the Learn page imports when it shows its stored figures
(assets/learn_figures.json, drawn by the browser: pages/_shared/lazy_chart.py): Streamlit's
Markdown helpers and the modules the Learn page and the shared helpers import, no numpy, pandas
or plotly figure code; the first visitor of a fresh server waits for every import here.
pages/_shared/figures_warm.py adds what building figures and the other pages' elements need
(numpy, pandas, pyarrow, PIL, plotly's trace modules), pages/_shared/preload.py the rest (torch
and the whole package)."""
import gc

import packaging.tags  # noqa: F401
import packaging.utils  # noqa: F401
import streamlit  # noqa: F401
import streamlit.components.v2.manifest_scanner  # noqa: F401
import streamlit.emojis  # noqa: F401  (Markdown with emoji)
import streamlit.material_icon_names  # noqa: F401
import streamlit.runtime.scriptrunner.magic_funcs  # noqa: F401

import maml_viz.views.learn  # noqa: F401
import maml_viz.views.links  # noqa: F401
import maml_viz.views.text  # noqa: F401
import pages._shared.lazy_chart  # noqa: F401
import pages._shared.learn_scenes  # noqa: F401
import pages._shared.learn_try  # noqa: F401
import pages._shared.ui  # noqa: F401


# A stopped server (SIGTERM, Ctrl-C) must exit. Streamlit's uvicorn waits, with no time limit,
# for every open connection to close (uvicorn.Config.timeout_graceful_shutdown = None): a browser
# tab left open kept `streamlit run` waiting forever after "Stopping..." (seen in
# tests/test_shutdown.py), so the running training never reached JobManager.close. Give the
# wait a limit: after it uvicorn cancels the connections' tasks and the shutdown goes on.
SHUTDOWN_WAIT = 5.0


def _bounded_shutdown():
    try:
        import uvicorn
    except ImportError:                       # another Streamlit server: nothing to bound
        return
    orig = uvicorn.Server.shutdown
    if getattr(orig, "maml_viz_bounded", False):
        return

    async def shutdown(self, sockets=None):
        if self.config.timeout_graceful_shutdown is None:
            self.config.timeout_graceful_shutdown = SHUTDOWN_WAIT
        return await orig(self, sockets)
    shutdown.maml_viz_bounded = True
    uvicorn.Server.shutdown = shutdown


_bounded_shutdown()


def freeze_heap():
    """Leave what is alive now (the modules just imported) out of every later garbage
    collection. Streamlit collects all generations after every script and fragment run
    (runner.postScriptGC), holding the interpreter lock meanwhile: with torch, plotly and the
    package imported that took about 110 ms per run on the 2-core machine, and the run's last
    messages (a Handwriting stroke's guesses, a poll's chart) waited for it. Objects made later
    (runs, figures, sessions) are collected as before. No collection first: it would cost the
    first visitor 35-70 ms per call, for the few hundred objects the imports leave as garbage."""
    gc.freeze()


freeze_heap()
