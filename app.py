"""maml-viz home page: "Learn". The story of MAML for someone who has never heard of it, drawn
from bundled runs, with no waiting. Other pages live in pages/ (Streamlit's page discovery)."""
import streamlit as st

from maml_viz import figures, learn
from pages._shared import ui

ui.setup("Learn", "🎓", light=True)

st.title("Learning to learn, in pictures")
st.markdown(
    "Most machine-learning models need thousands of examples. People don't: after seeing a few "
    "examples of a new thing, we get it. **Meta-learning** trains a model on many small, related "
    "problems (*tasks*) so that it, too, can learn a new one from a handful of examples. "
    "**MAML** (Finn et al., 2017) does this by learning a good *starting point*: a set of network "
    "weights from which one or two small gradient steps on a new task's few examples already work.")

# The pictures come from the bundled runs, precomputed (python -m maml_viz learn-data) so that
# this page draws before torch has loaded; another task is computed live.
seed = st.session_state.get("learn_seed", learn.TASK_SEED)
data = learn.load(ui.ROOT / "assets" / "learn.json") if seed == learn.TASK_SEED else None
if data is None:
    runs = ui.runs_or_train([ui.config_for(f, a) for f in ("sinusoid", "linear")
                             for a in ("maml", "pretrained")], "learn")
    if len(runs) < 2:
        st.stop()
    try:
        data = learn.compute(ui.backend().store, task_seed=seed)
    except LookupError:
        st.stop()
LABEL = {"maml": "MAML", "pretrained": "Pretrained"}

# ----------------------------------------------------------------------------- 1. a task family
st.header("1 · A family of tasks")
st.markdown("Here every task is a sine wave with its own height (amplitude) and shift (phase). "
            "A model gets to see only a few points of a new wave and must draw the whole curve.")
st.plotly_chart(figures.task_gallery(data["x"], data["gallery"]["ys"], data["gallery"]["titles"]),
                key="gallery")
st.caption("Eight tasks drawn at random from the family: same shape, different height and shift. "
           "A new task will be another curve like these.")

# ----------------------------------------------------------------------------- 2. pretrained vs MAML
st.header("2 · Why 'train on everything' is not enough")
st.markdown(
    "The obvious idea is to train one network on data from all tasks at once (*pretrained*). "
    "But the tasks disagree: at any x some waves go up and others go down, so that network learns "
    "their average, which is nearly flat, and one small step on 5 points barely moves it. "
    "MAML instead learns weights that are *ready to change*: one step on the same 5 points bends "
    "it onto the new wave.")
if st.button("Try another task", key="learn-new"):
    st.session_state.learn_seed = seed + 1
    st.rerun()
sine = data["sine"]
cols = st.columns(2)
for col, algo in zip(cols, ("pretrained", "maml")):
    d = sine[algo]
    fig = figures.adaptation(
        data["x"], sine["true"], support=(sine["xs"], sine["ys"]),
        curves=[(f"{LABEL[algo]} before", d["before"], algo, "dot"),
                (f"{LABEL[algo]} after 1 step", d["after"], algo, "solid")],
        title=f"{LABEL[algo]}: error {d['error'][0]:.2f} → {d['error'][1]:.2f}",
        subtitle=f"one gradient step (α = {d['inner_lr']:g}) on the {len(sine['xs'])} black points",
        y_range=(-6, 6), height=380)
    col.plotly_chart(fig, key=f"learn-{algo}")
st.caption("Dotted: the network before it sees the new task. Solid: after one gradient step "
           "on the black points. The dashed black curve is the truth it should find; the error "
           "is the mean squared distance to it.")

# ----------------------------------------------------------------------------- 3. parameter space
st.header("3 · The picture in weight space")
st.markdown(
    "Take the simplest possible model, a straight line y = a·x + b, so that its two weights "
    "(slope a, intercept b) make a plane we can draw. Each grey dot is the best line for one task. "
    "A star is a learned starting point; each thin line is the one gradient step from that start "
    "toward one task, using 10 of its points.")
line = data["linear"]
st.plotly_chart(figures.param_space(line["optima"], line["thetas"], line["adapted"], labels=LABEL,
                                    title="Starting points and one adaptation step",
                                    subtitle=f"{len(line['optima'])} new line tasks, 10 points each, "
                                             f"one step with α = {line['inner_lr']:g}"),
                key="learn-param")
st.caption("The stars sit in the middle of the cloud of task optima, so one step moves each "
           "line most of the way to its task's best one. For straight lines the average task is "
           "already a good start, which is why the pretrained star sits right on MAML's; for the "
           "sine waves above it is not, and there MAML wins by far.")

# ----------------------------------------------------------------------------- 4. the algorithm
st.header("4 · The algorithm in three lines")
st.markdown(r"""
Repeat many times:
1. **Pick a few tasks.** For each, take its few examples (the *support set*) and take one or more
   gradient steps from the shared starting weights θ: θ′ = θ − α ∇ loss(θ on support).
2. **Check how well the adapted weights θ′ do** on fresh examples of the same task (the *query set*).
3. **Move the starting point θ** so that this after-adaptation error goes down, averaged over the tasks.
   This step differentiates *through* step 1, which needs second derivatives.

**The variants:**
- **FOMAML** (first-order MAML) skips the second derivatives in step 3: it treats the step in 1
  as fixed. Cheaper, and often almost as good.
- **Reptile** has no step 3 gradient at all: it adapts to each task with several plain steps
  and then simply moves θ a fraction of the way toward the adapted weights θ′.
- **ANIL** adapts only the last layer in step 1; **Meta-SGD** also learns a step size for every weight.
""")
st.info("Next: the **Playground** lets you adapt to your own points, **Train** meta-trains with "
        "your settings, **Compare** puts the algorithms side by side with confidence bands, and "
        "**Navigation** shows the same idea with rewards instead of answers: a robot that "
        "finds a hidden goal after one or two policy-gradient steps.")
