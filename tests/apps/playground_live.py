"""A one-chart app for tests/test_browser_adapt_component.py: the in-browser Playground prototype
(pages/_shared/adapt_component.py) on the bundled sinusoid MAML run."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from maml_viz.runs.files import load_run  # noqa: E402
from pages._shared import adapt_component  # noqa: E402


@st.cache_resource
def run():
    return load_run(next((ROOT / "assets" / "runs").glob("sinusoid-maml-*")))


st.set_page_config(page_title="Playground (browser)", layout="wide")
r = run()
adapt_component.playground(r, k=r.config.k_shot, lr=r.config.inner_lr, steps=10, step=1,
                           label="MAML")
