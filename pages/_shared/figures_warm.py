"""What building Plotly figures and the other pages' elements need, imported once per server
and one session at a time (see pages/_shared/boot.py for why): pandas and pyarrow (Streamlit's
tables, CSV downloads), PIL (st.image), and plotly's trace and layout modules. Imported by
pages/_shared/preload.py (every page but Learn) and by the Learn page before it builds figures
(presenter mode, another task): the Learn page's first view draws stored figures and needs none
of this, which kept about half a second off a fresh server's first page."""
import encodings.cp437  # noqa: F401  (zip names)
import importlib
import pkgutil

import narwhals._interchange.dataframe  # noqa: F401  (Plotly reading pandas)
import numpy  # noqa: F401
import orjson  # noqa: F401  (Plotly's JSON)
import pandas  # noqa: F401
import pandas.io.formats.csvs  # noqa: F401  (CSV downloads)
import PIL.Image
import plotly.colors  # noqa: F401
import plotly.graph_objects as go
import plotly.io
import plotly.subplots  # noqa: F401
import pyarrow  # noqa: F401  (Streamlit's tables)
import pyarrow.pandas_compat  # noqa: F401
import pyarrow.vendored.version  # noqa: F401

import maml_viz.views.figures
import pages._shared.boot  # noqa: F401  (the light part first)

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
pages._shared.boot.freeze_heap()            # what was just imported: out of every collection
