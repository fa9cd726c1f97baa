"""maml-viz home page: "Learn". The story of MAML for someone who has never heard of it, drawn
from bundled runs with no waiting: every number and curve comes from assets/learn.json
(python -m maml_viz learn-data; maml_viz/learn.py computes it), so this page never imports
torch unless the reader asks for another task. Other pages live in pages/."""
import pages._shared.boot  # noqa: F401  (first: imports, one session at a time)
import streamlit as st

from maml_viz.views import learn
from pages._shared import ui

ui.setup("Learn", "🎓", light=True)
# the gallery has a 4-column and a 2-column version; a phone (<= 480 px) sees the second
st.html("<style>.st-key-gallery-narrow{display:none}@media (max-width:480px){"
        ".st-key-gallery-wide{display:none}.st-key-gallery-narrow{display:flex}}</style>")

st.title("Learning to learn, in pictures")
st.markdown(
    "Most machine-learning models need thousands of examples. People don't: after seeing a few "
    "examples of a new thing, we get it. **Meta-learning** trains a model on many small, related "
    "problems (*tasks*) so that it, too, can learn a new one from a handful of examples. "
    "**MAML** (Finn et al., 2017) does this by learning a good *starting point*: a set of network "
    "weights from which one or two small gradient steps on a new task's few examples already work. "
    "(Words in *italics* are explained at the bottom of the page.)")

data = learn.load(ui.ROOT / "assets" / "learn.json")
seed = st.session_state.get("learn_seed", learn.TASK_SEED)
if data is None or seed != learn.TASK_SEED:            # computed live: needs torch and the runs
    need = [("sinusoid", a) for a in ("maml", "pretrained")]
    if data is None:
        need += [(learn.PLANE_FAMILY, a) for a in ("maml", "pretrained")]
    if len(ui.runs_or_train([ui.config_for(f, a) for f, a in need], "learn")) < len(need):
        st.stop()
    store = ui.backend().store
    data = learn.compute(store, seed) if data is None else {**data, "sine": learn.sine(store, seed)}
words = learn.texts(data)


@st.cache_resource(show_spinner=False, max_entries=8)
def pictures(key, _data):          # shared by all sessions: figures are rebuilt only for new data
    return learn.pictures(_data)


figs = pictures(learn.fingerprint(data), data)

# ----------------------------------------------------------------------------- 1. a task family
st.header("1 · A family of tasks")
st.markdown("Here every *task* is a sine wave with its own height (amplitude A) and shift "
            "(phase φ). A model gets to see only a few points of a new wave and must draw the "
            "whole curve.")
for key in ("gallery-wide", "gallery-narrow"):
    with st.container(key=key):
        st.plotly_chart(figs[key], key=f"chart-{key}")
st.caption("Eight tasks drawn at random from the family: same shape, different height and shift. "
           "A new task will be another curve like these.")

# ----------------------------------------------------------------------------- 2. pretrained vs MAML
st.header("2 · Why 'train on everything' is not enough")
st.markdown(words["sine"])
if st.button("Try another task", key="learn-new",
             help="Draw another sine wave and its 5 points, and redo the step for both networks "
                  "(takes a few seconds the first time: it loads the engine)."):
    st.session_state.learn_seed = seed + 1
    st.rerun()
for col, algo in zip(st.columns(2), ("pretrained", "maml")):
    col.plotly_chart(figs[f"sine-{algo}"], key=f"learn-{algo}")
st.caption("Dotted: the network (two hidden layers of 40) before it sees the new task. Solid: "
           "after one gradient step on the black points. The dashed black curve is the truth it "
           "should find; the error is the mean squared distance to it.")

# ----------------------------------------------------------------------------- 3. weight space
st.header("3 · The same story in weight space")
p = data["plane"]
st.markdown(
    "Now the smallest model that can draw these waves: y = a·sin(x − b), with just two weights, "
    "the height a and the shift b. Every choice of the two weights is a point in the plane below, "
    "so we can see where each method starts and where one gradient step takes it. The tasks are "
    f"waves of height {p['amp_range'][0]:g} to {p['amp_range'][1]:g}. **Grey dots**: the best "
    f"weights for each of {len(p['optima'])} new tasks. **Star**: the start. **Thin lines**: "
    f"the one step that each task's {ui.esc(p['k'])} points give. **Dotted**: what is still missing.")
for col, algo in zip(st.columns(2), ("pretrained", "maml")):
    col.plotly_chart(figs[f"plane-{algo}"], key=f"plane-{algo}")
st.caption(words["plane"])

# ----------------------------------------------------------------------------- 4. the algorithms
st.header("4 · How MAML learns its start, and two cheaper cousins")
st.markdown("""
Repeat many times (each round is one *meta-iteration*):
1. **Pick a few tasks.** For each, take its few examples (the *support points*) and take one
   *gradient step* from the shared starting weights θ: θ′ = θ − α · (the error's slope at θ).
2. **Check how well the adapted weights θ′ do** on other examples of the same task (the *query points*).
3. **Move the start θ** in the direction that lowers this after-the-step error, averaged over the tasks.

The three algorithms differ in step 3: which way they move θ. Here are their arrows, from the same θ
on the same tasks, in the plane of §3:
""")
c1, c2 = st.columns([3, 2])
c1.plotly_chart(figs["arrows"], key="learn-arrows")
c2.markdown("\n".join(f"- **{name}** {text}" for name, text in words["rules"]))
c2.markdown("(**ANIL** adapts only part of the weights in step 1; **Meta-SGD** also learns a "
            "step size for every weight.)")
st.caption(words["rules_caption"])

# ----------------------------------------------------------------------------- 5. meta-training
st.header("5 · Watch meta-training happen")
c1, c2 = st.columns([3, 2])
c1.plotly_chart(figs["training"], key="learn-training")
c2.markdown(words["training"])

# ----------------------------------------------------------------------------- words, details, next
st.header("Words used here")
st.markdown("\n".join(f"- **{term}**: {text}" for term, text in learn.GLOSSARY))
with st.expander("Advanced: where these numbers come from"):
    st.markdown(words["advanced"])
st.subheader("Next")
for page, label, icon, line in (
        ("pages/1_Playground.py", "Playground", ":material/tune:",
         "adapt a trained network to a new task step by step, or to points you click."),
        ("pages/2_Train.py", "Train", ":material/model_training:",
         "meta-train with your own settings and watch it learn."),
        ("pages/3_Compare.py", "Compare", ":material/compare:",
         "all the algorithms side by side on new tasks, with 95% confidence bands."),
        ("pages/4_Navigation.py", "Navigation (RL)", ":material/explore:",
         "the same idea with rewards: a robot that finds a hidden goal in one or two steps.")):
    st.page_link(page, label=label, icon=icon)
    st.caption(line)
