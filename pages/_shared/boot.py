"""The first import of every page, before anything else: what the pages need to draw, imported
once per server and one session at a time. Streamlit runs each session's script in its own
thread; eight users arriving on a just-started server would otherwise import pandas, plotly and
the package at the same moment, and Python's import locks can then hand one of them a module
that is still half-initialised ("partially initialized module 'pandas' has no attribute
'Series'"). A thread that imports this module while another one is doing so waits for it to
finish, holding no other import lock: nothing can interleave.

This is the light part, enough for the Learn page (which never loads torch unless asked):
numpy, pandas, pyarrow (Streamlit's tables), plotly and the modules the Learn page and the shared
helpers import. pages/_shared/preload.py adds the rest (torch and the whole package) for the
other pages."""
import encodings.cp437  # noqa: F401  (zip names)
import importlib
import pkgutil
import numpy  # noqa: F401
import orjson  # noqa: F401  (Plotly's JSON)
import pandas  # noqa: F401
import pandas.io.formats.csvs  # noqa: F401  (CSV downloads)
import narwhals._interchange.dataframe  # noqa: F401  (Plotly reading pandas)
import packaging.tags  # noqa: F401
import packaging.utils  # noqa: F401
import PIL.Image  # noqa: F401  (st.image)
import plotly.colors  # noqa: F401
import plotly.graph_objects as go
import plotly.io
import plotly.subplots  # noqa: F401
import pyarrow  # noqa: F401  (Streamlit's tables)
import pyarrow.pandas_compat  # noqa: F401
import pyarrow.vendored.version  # noqa: F401
import streamlit  # noqa: F401
import streamlit.components.v2.manifest_scanner  # noqa: F401
import streamlit.emojis  # noqa: F401  (Markdown with emoji)
import streamlit.material_icon_names  # noqa: F401
import streamlit.runtime.scriptrunner.magic_funcs  # noqa: F401

import maml_viz.views.figures
import maml_viz.views.learn  # noqa: F401
import maml_viz.views.links  # noqa: F401
import maml_viz.views.text  # noqa: F401
import pages._shared.learn_scenes  # noqa: F401
import pages._shared.learn_try  # noqa: F401
import pages._shared.ui  # noqa: F401

# Plotly 7 imports the module of each trace type and of each layout part when a figure first
# uses it (about 1,400 small modules): import those the app's figures use (views/figures: layout,
# scatter, scattergl, contour, heatmap, bar, frames), so that no page does it first; likewise
# the image formats of st.image (PIL imports its plugins on first use)
for _pkg in ("layout", "scatter", "scattergl", "contour", "heatmap", "bar"):
    _mod = importlib.import_module(f"plotly.graph_objs.{_pkg}")
    for _m in pkgutil.walk_packages(_mod.__path__, _mod.__name__ + "."):
        importlib.import_module(_m.name)
for _m in pkgutil.walk_packages(maml_viz.views.figures.__path__, "maml_viz.views.figures."):
    importlib.import_module(_m.name)              # the figure builders (plotly and numpy only)
plotly.io.to_json(go.Figure(go.Scatter(x=[0], y=[0]), frames=[go.Frame(data=[])],
                            layout={"template": "plotly"}))
PIL.Image.preinit()

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
