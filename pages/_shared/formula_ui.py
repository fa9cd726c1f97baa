"""The formula family's Streamlit parts (family `expr`, maml_viz/views/formula.py): on the Train
page, the formula's field, one range field per parameter it names and x's, the parser's one-line
message under the field that is wrong, and a gallery of sampled tasks before anything trains; on
the Playground and Compare, the formula picker among the stored runs' formulas; the formula in
links (`formula=a*sin(x + b);a=0.1:5;b=0:3.1416;x=-5:5`). Also the Train page's line about
plugins that were not loaded. (Not a page: Streamlit lists only .py files directly in pages/.)"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from maml_viz.views import formula as F
from maml_viz.views.figures.formula import task_gallery
from maml_viz.views.links import LinkValue
from maml_viz.views.text import esc
from pages._shared import ui

KEPT = "_tr_formula_kept"          # the fields' texts, kept while the family is another one


def cast(text) -> str:
    """A link's formula value, checked, in its canonical spelling (View casts)."""
    return F.to_link(F.from_link(text))


def link_of(cfg) -> dict:
    """{"formula": its link text} for a config of the formula family, else {} (for View.fresh)."""
    return {"formula": F.to_link(cfg.family_options)} if F.is_formula_family(cfg.family) else {}


# ----------------------------------------------------------------------------- the Train page
@dataclass(frozen=True)
class Typed:
    """What the formula fields say: ok (False while a field is wrong) and the family options
    for the config (None: the family's defaults, for any other family)."""
    ok: bool
    options: dict | None = None


def _keep(f: str, ranges: dict, x: str) -> None:
    st.session_state[KEPT] = {"f": f, "x": x, "ranges": dict(ranges)}
    for k in [k for k in st.session_state if str(k).startswith("tr_fx_")]:
        del st.session_state[k]                      # the fields start again from what is kept


def from_url() -> None:
    """A Train link with ?formula=...: opens the formula family with it (once per new value);
    a formula that is refused is ignored with one line saying why."""
    ss, text = st.session_state, st.query_params.get("formula")
    if text is None or ss.get("_tr_formula_url") == text:
        return
    ss["_tr_formula_url"] = text
    try:
        f, ranges, x = F.fields(F.from_link(text))
    except LinkValue as e:
        st.warning(esc(f"The link's formula was ignored ({e})."))
        return
    ss["tr_family"] = F.FAMILY
    _keep(f, ranges, x)


def page_top() -> None:
    """What the Train page says before its form: plugins not loaded; a link's formula."""
    plugin_problems()
    from_url()


def same_tasks(a, b) -> bool:
    """Whether two configs draw the same tasks (the family and its options: one formula)."""
    return (a.family, a.family_options) == (b.family, b.family_options)


def plugin_problems() -> None:
    """Plugins that were not loaded (engine.plugins.PROBLEMS), as one warning line."""
    from maml_viz.engine import plugins
    if plugins.PROBLEMS:
        st.warning(esc(f"{len(plugins.PROBLEMS)} plugin(s) not loaded (everything else works): "
                       + " · ".join(p.removeprefix("maml-viz: ") for p in plugins.PROBLEMS)))


def _field(label: str, key: str, value: str, help: str, box) -> str:
    if key not in st.session_state:
        st.session_state[key] = value
    return box.text_input(label, key=key, help=help)


@st.cache_data(max_entries=32, show_spinner=False)
def _gallery(link: str):
    p = F.preview(F.from_link(link))
    fig = task_gallery(p.x, p.ys, p.labels, p.title, F.finite_span(p.ys))
    return fig, len(p.labels)


def fields(family: str) -> Typed:
    """For the formula family: its fields (kept in the session and the URL), the message under
    the wrong one, and the preview of its tasks; for any other family: Typed(True)."""
    if not F.is_formula_family(family):
        if "formula" in st.query_params:
            del st.query_params["formula"]
        return Typed(True)
    ss = st.session_state
    example = dict(F.EXAMPLE)
    kept = ss.setdefault(KEPT, {"f": example.pop("f"), "x": example.pop("x"), "ranges": example})
    f = _field("Formula: y =", "tr_fx_f", kept["f"], "A formula in x and parameters (letters), "
               "e.g. a*sin(x + b): + - * / ^, parentheses, pi, e and sin cos tan exp log sqrt "
               "abs tanh sign floor min max clip… Each task draws every parameter from its "
               "range.", st)
    names = F.parameters(f)
    # the values the fields hold now (the widgets below are drawn after the check)
    ranges = {n: ss.get(f"tr_fx_r_{n}", kept["ranges"].get(n, F.NEW_RANGE)) for n in names}
    x = ss.get("tr_fx_x", kept["x"])
    got = F.check(f, ranges, x)
    if got.field == "f":
        st.error(esc(got.message))
    cols = st.columns(max(len(names) + 1, 4))
    for col, n in zip(cols, names):
        ranges[n] = _field(f"Range of {n}", f"tr_fx_r_{n}", ranges[n], f"Each task draws {n} "
                           f"uniformly from LO:HI (numbers, pi, e: 0:2*pi).", col)
        if got.field == n:
            col.error(esc(got.message))
    x = _field("Range of x", "tr_fx_x", x, "The inputs of every task: the support and query "
               "points are drawn uniformly from LO:HI.", cols[len(names)])
    if got.field not in ("f", *names) and not got.ok:
        cols[len(names)].error(esc(got.message))
    kept.update(f=f, x=x, ranges={**kept["ranges"], **ranges})
    if not got.ok:
        st.query_params.pop("formula", None)
        return Typed(False)
    link = F.to_link(got.options)
    st.query_params["formula"] = ss["_tr_formula_url"] = link      # (from_url: not new)
    fig, n = _gallery(link)
    st.plotly_chart(fig, key="tr_fx_preview", config={"displayModeBar": False})
    st.caption(esc(f"{n} tasks drawn from {F.label(got.options)}, before training: each line is "
                   f"one task's true function (hover for its parameters). Training and "
                   f"evaluation draw their own tasks from the same ranges."))
    return Typed(True, got.options)


# ----------------------------------------------------------------------------- Playground, Compare
def pick(view, family: str) -> dict | None:
    """For the formula family: a "Formula" picker among the formulas of the stored runs (and the
    default one, and the link's), kept in the view as `formula`; returns its options. None for
    any other family (no picker)."""
    if not F.is_formula_family(family):
        return None
    stored, default_cfg = ui.stored_runs(family), ui.config_for(family, "maml")
    labels = {F.to_link(default_cfg.family_options): F.label(default_cfg.family_options)}
    for r in stored:
        opts = r["config"].family_options
        labels.setdefault(F.to_link(opts), F.label(opts))
    if "formula" in view.fresh and view.fresh["formula"] not in labels:
        link = view.fresh["formula"]
        labels[link] = F.label(F.from_link(link))
    options = list(labels)
    text = st.selectbox("Formula", options, format_func=labels.get,
                        key=view.seed("formula", options[0], options),
                        help="The formula family's tasks: each formula (with its ranges) is its "
                             "own family; its runs are listed below. Type a new one on the Train "
                             "page.")
    if not stored:
        st.caption("No formula has been trained here yet: type your own formula on the Train "
                   "page, or train this one with the button below.")
    return F.from_link(text)
