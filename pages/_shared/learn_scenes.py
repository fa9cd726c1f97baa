"""The Learn page's story as numbered scenes (app.py shows them all, or one at a time in
presenter mode): what each scene says and draws, and the predict-then-reveal widget. The words
that state numbers come from maml_viz/views/learn_text.py (computed from assets/learn.json);
*italic* jargon links to the glossary (maml_viz/views/glossary.py), printed in the last scene."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from maml_viz.views.figures.look import LOOK
from maml_viz.views.glossary import as_html, linkify
from maml_viz.views.learn import LABELS, TASK_SEED
from pages._shared import lazy_chart, learn_try, present


SHAPES = {"circle": "circles", "square": "squares", "triangle-up": "triangles",
          "star": "stars", "diamond": "diamonds"}


@dataclass
class Story:
    data: dict            # assets/learn.json (or computed live)
    words: dict           # learn.texts(data)
    asks: dict            # learn.predictions(data)
    figs: dict            # {name: (Plotly JSON, height)}: learn.stored_specs or learn.specs
    svgs: dict            # learn.gallery_svgs(data): §1's static pictures
    demo: bool            # presenter mode: bigger charts, no researcher controls


def md(text: str):
    st.markdown(linkify(text))


def chart(s: Story, name: str, key: str, where=st):
    spec, height = s.figs[name]
    lazy_chart.chart(spec, height, key, where, config={"displayModeBar": False})


def predict(p: dict, key: str) -> bool:
    """Ask first: a choice with no default. Once the reader has chosen, say whether it was
    right and why, and return True (the caller then reveals the chart). The choice is kept
    across scenes and reruns. A link that hides the question (?hide=predict) reveals at once."""
    if not present.shown(key, "Learn"):
        return True
    ss, kept = st.session_state, f"_{key}"
    if key not in ss and kept in ss:
        ss[key] = ss[kept]
    with st.container(border=True):
        choice = st.radio(f"**Predict first:** {p['question']}", p["options"], index=None,
                          key=key, help="Choose what you expect before you look: the chart "
                                        "and the answer appear once you have chosen.")
        ss[kept] = choice
        if choice is None:
            st.caption("Choose an answer to see the chart.")
            return False
        if choice == p["answer"]:
            st.success(f"Right. {p['why']}", icon=":material/check_circle:")
        else:
            st.info(f"Not quite: {p['answer']}. {p['why']}", icon=":material/lightbulb:")
    return True


# ----------------------------------------------------------------------------- the scenes
def tasks(s: Story):
    st.header("1 · A family of tasks")
    md("Most machine-learning models need thousands of examples. People don't: after seeing a "
       "few examples of a new thing, we get it. **Meta-learning** trains a model on many small, "
       "related problems (*tasks*) so that it, too, can learn a new one from a handful of "
       "examples. **MAML** (Model-Agnostic Meta-Learning, Finn et al., 2017) does this by "
       "learning a good *starting point*: a set of network *weights* from which one or two "
       "small *gradient steps* on a new task's few examples already work. (Every word in "
       "italics is explained in the glossary: hover over it or click it, or open **Glossary** "
       "in the sidebar.)")
    md("Here every *task* is a sine wave with its own height (amplitude A) and shift (phase φ). "
       "A model gets to see only a few points of a new wave and must draw the whole curve.")
    for name in ("wide", "narrow"):          # static: drawn with the page's first screen
        with st.container(key=f"gallery-{name}"):   # (an HTML block: no Markdown inside; st.html
            st.markdown(f"<div>\n{s.svgs[name]}\n</div>", unsafe_allow_html=True)  # drops SVG)
    st.caption("Eight tasks drawn at random from the family: same shape, different height and "
               "shift. A new task will be another curve like these.")


def pretrained(s: Story):
    st.header("2 · Why 'train on everything' is not enough")
    md("The obvious idea is to train one network on data from all tasks at once: the "
       "*pretrained* network. MAML instead is *meta-trained*: it practises learning a new wave "
       "from a few points, thousands of times. Both networks have two hidden layers of 40.")
    if not predict(s.asks["sine"], "pred_sine"):
        return
    md(s.words["sine"])
    if not s.demo and present.shown("learn_new", "Learn") and st.button(
            "Try another task", key="learn_new",
            help="Draw another sine wave and its 5 points, and redo the step for both networks "
                 "(takes a few seconds the first time: it loads the engine)."):
        st.session_state.learn_seed = st.session_state.get("learn_seed", TASK_SEED) + 1
        st.rerun()
    for col, algo in zip(st.columns(2), ("pretrained", "maml")):
        chart(s, f"sine-{algo}", f"learn-{algo}", col)
    md("Dotted: the network before it sees the new task. Solid: after one *gradient step* on "
       "the black points. The dashed black curve is the truth it should find; the error is the "
       "*mean squared error* to it.")


def hands_on(s: Story):
    st.header("3 · Try it yourself")
    md("Now you choose the task. Shape the new wave with **Height A** and **Shift φ**, or "
       "**click on a chart** to put points of your own (three to five are plenty; the networks "
       "then learn from your points alone). **Gradient steps taken** moves both networks through "
       "the same *adaptation steps* on the same points. Things to try:\n"
       "- put all your points on the left half (x < 0): what does each network guess on the "
       "right?\n- make a low wave (A = 0.5) or a tall one (A = 5), and shift it;\n"
       "- slide the steps back to 0 to see where each one starts, then step by step.")
    if not s.demo and present.shown("pred_sine", "Learn") and \
            st.session_state.get("_pred_sine") is None:     # its chart would give §2's answer
        st.info("Answer the question in section 2 first: this chart shows its answer.",
                icon=":material/arrow_upward:")
        return
    if present.shown("learn_try", "Learn"):
        learn_try.hands_on(s.data["try"], big=s.demo, alone=s.demo)
    md("Grey dotted: the network before any step. Solid: after the steps the slider shows, "
       "computed in your browser with the same arithmetic as the app's engine (K = "
       f"{s.data['try']['k']} points of the wave; step size α as each network was trained). "
       "Error: *mean squared error* on the whole wave, or on your points when you place them.")


def plane(s: Story):
    st.header("4 · The same story in weight space")
    p = s.data["plane"]
    md("Now the smallest model that can draw these waves: y = a·sin(x − b), with just two "
       "*weights*, the height a and the shift b. Every choice of the two weights is a point in "
       "the plane below, so we can see where each method starts and where one gradient step "
       f"takes it. The tasks are waves of height {p['amp_range'][0]:g} to "
       f"{p['amp_range'][1]:g}. **Grey dots**: the best weights for each of {len(p['optima'])} "
       f"new tasks. **Star**: the start. **Lines**: the one step that each task's {p['k']} "
       "points give, to a dot coloured by the error left after it. **Dotted**: what is still "
       "missing.")
    shown = predict(s.asks["plane"], "pred_plane")
    c1, c2 = st.columns(2)
    chart(s, "plane-pretrained", "plane-pretrained", c1)
    if not shown:
        c2.container(border=True, height=300).caption(
            "MAML's start and its steps appear here once you have chosen an answer above.")
        return
    chart(s, "plane-maml", "plane-maml", c2)
    md(s.words["plane"])


def meta_training(s: Story):
    st.header("5 · How MAML learns its start")
    md("Repeat many times (each round is one *meta-iteration*):\n"
       "1. **Pick a few tasks.** For each, take its few examples (the *support points*) and take "
       "one *gradient step* from the shared starting weights θ: θ′ = θ − α · (the error's "
       "*slope* at θ). This is the *inner loop*.\n"
       "2. **Check how well the adapted weights θ′ do** on other examples of the same task (the "
       "*query points*).\n"
       "3. **Move the start θ** in the direction that lowers this after-the-step error, averaged "
       "over the tasks: the *outer loop*.")
    c1, c2 = st.columns([3, 2])
    chart(s, "training", "learn-training", c1)
    c2.markdown(s.words["training"])


def variants(s: Story):
    st.header("6 · Three ways to move θ")
    md("Three algorithms share steps 1 and 2 and differ in step 3: which way they move θ. "
       "Here are their directions, from the same θ on the same tasks, in the plane of §4:")
    c1, c2 = st.columns([3, 2])
    chart(s, "arrows", "learn-arrows", c1)
    c2.markdown("\n".join(f"- **{name}** {text}" for name, text in s.words["rules"]))
    c2.markdown(linkify("(*ANIL* adapts only part of the weights in step 1; *Meta-SGD* also "
                        "learns a step size for every weight.)"))
    st.caption(s.words["rules_caption"])


def race(s: Story):
    st.header("7 · The three variants race")
    r = s.data["race"]
    marks = ", ".join(f"{LABELS[a]}: {SHAPES[LOOK[a]['symbol']]}" for a in r["algos"])
    md("Each algorithm now meta-trains the 2-weight model from the same start, on the same "
       "tasks, for the same number of meta-iterations. Press play: the trails are their θ "
       f"every {r['every']} meta-iterations; the mark at the head of each trail says which "
       f"is which ({marks}).")
    c1, c2 = st.columns([3, 2])
    chart(s, "race", "learn-race", c1)
    chart(s, "race-ends", "learn-race-ends", c2)
    st.markdown(s.words["race_ends"])
    if predict(s.asks["cost"], "pred_cost"):
        chart(s, "cost", "learn-cost")
        st.markdown(s.words["race_cost"])


def glossary_and_next(s: Story):
    st.header("Words used here")
    st.html(as_html())
    if not s.demo and present.shown("learn_advanced", "Learn"):
        with st.expander("Advanced: where these numbers come from", key="learn_advanced"):
            st.markdown(s.words["advanced"])
    st.subheader("Next")
    for page, label, icon, line in (
            ("pages/1_Playground.py", "Playground", ":material/tune:",
             "adapt a trained network to a new task step by step, or to points you click."),
            ("pages/2_Train.py", "Train", ":material/model_training:",
             "meta-train with your own settings and watch it learn."),
            ("pages/3_Compare.py", "Compare", ":material/compare:",
             "all the algorithms side by side on new tasks, with 95% intervals."),
            ("pages/4_Navigation.py", "Navigation (RL)", ":material/explore:",
             "the same idea with rewards: a robot that finds a hidden goal in one or two steps."),
            ("pages/5_Handwriting.py", "Handwriting", ":material/draw:",
             "new letters from one drawing each (5-way 1-shot): a network meta-trained on "
             "handwritten characters reads an alphabet it never saw, and your drawings.")):
        st.page_link(page, label=label, icon=icon)
        st.caption(line)


SCENES = [("A family of tasks", tasks), ("Why 'train on everything' is not enough", pretrained),
          ("Try it yourself", hands_on), ("The same story in weight space", plane),
          ("How MAML learns its start", meta_training), ("Three ways to move θ", variants),
          ("The three variants race", race), ("Words used here, and what next", glossary_and_next)]
