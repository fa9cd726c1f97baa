"""Compare like a methods paper, the Streamlit parts: the robust statistics over training seeds
under the averaged chart (the probability-of-improvement matrix and how to read it, or why it is
not estimated), tables out as CSV and LaTeX, and every chart out as PNG and SVG at publication
size (pages/_shared/export.js, in the browser). (Not a page: Streamlit lists only .py files
directly inside pages/.)"""
from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from maml_viz.runs import tables
from maml_viz.views import compare_stats
from maml_viz.views.compare_notes import esc
from maml_viz.views.figures import paper as paper_fig

EXPORT_JS = (Path(__file__).parent / "export.js").read_text()


def export_charts(*prefixes: str) -> None:
    """PNG and SVG buttons under every chart whose key starts with one of the prefixes (once
    per tab; in the browser)."""
    js = EXPORT_JS.replace("__EXPORT__", json.dumps(paper_fig.EXPORT)).replace(
        "__PREFIXES__", json.dumps(list(prefixes)))
    st.html(f"<script>{js}</script>", unsafe_allow_javascript=True)


def table_downloads(table, name: str, caption: str, key: str, note: str | None = None) -> None:
    """The table as CSV and as LaTeX (booktabs), side by side."""
    a, b = st.columns(2)
    a.download_button("Table as CSV", tables.to_csv(table).encode(), file_name=f"{name}.csv",
                      mime="text/csv", key=f"{key}_csv", width="stretch",
                      help="The table as shown, one row per line")
    b.download_button("Table as LaTeX", tables.to_latex(table, caption=caption,
                                                        label=f"tab:{name}", note=note).encode(),
                      file_name=f"{name}.tex", mime="text/x-tex", key=f"{key}_tex",
                      width="stretch", help="A booktabs table (\\usepackage{booktabs}) with "
                                            "the same rows, every cell escaped for LaTeX")


@st.cache_data(show_spinner=False, max_entries=32)
def _robust(_frames, sig, labels: dict, k: int, step: int, hib: bool):
    return compare_stats.robust(_frames, labels, k, step, hib)


def robust_stats(est: dict, groups: dict, names: dict, fam, k: int, steps: int) -> dict:
    """{step: Robust} at step 1 and the last step for the runs' seeds (groups: {run key:
    seed configs}); computed once per set of curves."""
    frames = {key: {c.seed: est[c.key()].frame for c in cs if c.key() in est}
              for key, cs in groups.items()}
    sig = tuple((key, tuple((s, est_key, est[est_key].source, est[est_key].tasks)
                            for s, est_key in sorted((c.seed, c.key()) for c in cs
                                                     if c.key() in est)))
                for key, cs in groups.items())
    labels = {key: names[key] for key in groups}
    return {s: _robust(frames, sig, labels, k, s, bool(fam.higher_is_better))
            for s in dict.fromkeys(x for x in (1, steps) if x <= steps)}


def robust_section(by_step: dict, names: dict, family: str, k: int) -> None:
    """The probability-of-improvement matrix at the last step (with how to read it and its
    table out), or the one sentence saying why it is not estimated."""
    st.subheader("Is the difference real over training seeds?")
    last = by_step[max(by_step)]
    if not last.estimated:
        st.info(esc(last.note or "Not estimated."))
        return
    labels = {key: names[key] for key in last.poi["algos"]}
    st.plotly_chart(paper_fig.poi_matrix(last.poi, labels, last.step), key="cmp_poi",
                    config={"displayModeBar": False})
    st.caption(esc(last.reading + (" " + last.note if last.note else "")))
    tab = compare_stats.poi_table(last.poi, labels)
    table_downloads(tab, f"poi-{family}-K{k}-step{last.step}",
                    f"Probability of improvement, P(row better than column), {family}, K = {k}, "
                    f"after {last.step} steps [95% bootstrap interval over seeds and tasks]",
                    "cmp_poi_table")
