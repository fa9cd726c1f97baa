"""Handwriting: a network meta-trained on handwritten characters (Omniglot) learns five letters
of an alphabet it never saw from one drawing each, and recognises other people's drawings of
them. MAML beside a network pretrained the usual way; a step slider scrubs in the browser."""
import streamlit as st

from maml_viz import figures
from maml_viz import handwriting as hw
from pages._shared import ui

b = ui.setup("Handwriting", "✍️")
st.title("Handwriting: new letters from one example")
st.markdown(
    "People learn a new letter from one example and then read it in anyone's handwriting. Can "
    "a network? This one was meta-trained on five alphabets of handwritten characters "
    "(Omniglot; a sixth chose its step size); **Korean** and **Tagalog** it has **never seen**. "
    "It gets one drawing of each of five "
    "characters (top row), takes a few gradient steps on them, and guesses the drawings below.")
ss = st.session_state
ss.setdefault("hw_seed", 0)
ss.setdefault("hw_draw", 0)

c1, c2, c3, c4 = st.columns([1, 3, 1, 1], vertical_alignment="bottom")
alphabet = c1.selectbox("Alphabet", hw.alphabets(), key="hw_alphabet",
                        help="Both alphabets were held out: the network never saw them in training.")
chars = c2.multiselect(
    "Characters to learn (five)", hw.characters(alphabet),
    default=hw.pick_characters(alphabet, 5, ss.hw_seed), max_selections=5,
    format_func=lambda c: hw.character_name(c).split(", ")[1], key=f"hw_chars_{alphabet}_{ss.hw_seed}",
    help="Pick the five characters of the task; the network learns them from one drawing each.")
if c3.button("Other characters", width="stretch", help="Five other characters of this alphabet"):
    ss.hw_seed += 1
    st.rerun()
if c4.button("Other drawings", width="stretch",
             help="Other people's drawings of the same characters (to learn from and to test)"):
    ss.hw_draw += 1
if len(chars) < 5:
    st.warning(f"Pick five characters (now {len(chars)}): the network was trained on five-way "
               "tasks.")
    st.stop()

ALGOS = ("maml", "pretrained")
runs = ui.runs_or_train([ui.config_for("omniglot", a) for a in ALGOS], "hw")
if any(a not in runs for a in ALGOS):
    st.stop()
for r in runs.values():
    ui.partial_warning(r)

ep = hw.episode(chars, ss.hw_draw)
steps = runs["maml"].family.eval_steps
out = {a: hw.guesses(runs[a], ep, steps) for a in ALGOS}
true = ep["yq"][0].numpy()
alpha = runs["maml"].config.inner_lr
proto = f"right of {len(true)} new drawings · 1 example each · step size α = {alpha:g}"

cols = st.columns(2)
for col, a in zip(cols, ALGOS):
    acc = out[a]["accuracy"]
    col.plotly_chart(figures.handwriting_grid(
        ep["support_img"], ep["query_img"], true, out[a]["guess"],
        title=f"{ui.label(a)}: {acc[0]:.0%} → {acc[-1]:.0%} after {steps} steps",
        subtitle=proto, height=560), key=f"hw_grid_{a}")
cols[0].caption("Top row: the one drawing of each character the network learns from (A–E). "
                "Below: other people's drawings, one column per character, with the network's "
                "guess (✓ right, ✗ wrong) after one step. Move the slider: at 0 it has not "
                f"learned anything yet (chance), then step by step to {steps}.")
cols[1].caption("The same task for a network trained on the same alphabets without "
                "meta-learning (every task's drawings pooled, each with its task's labels), then "
                "fine-tuned with the same steps: a few steps on five drawings teach it little.")

st.subheader("How sure is it? One drawing, step by step")
q = len(true) // len(chars)
pick = st.selectbox(
    "Drawing to inspect", range(len(true)), key="hw_pick",
    format_func=lambda i: f"a drawing of {hw.LETTERS[true[i]]} (#{i % q + 1})",
    help="One of the new drawings above: its bars show each network's probability for A–E.")
st.plotly_chart(figures.class_probabilities(
    {a: (ui.label(a), out[a]["probs"][:, pick]) for a in ALGOS}, int(true[pick]),
    title=f"Probabilities for a drawing of {hw.LETTERS[true[pick]]}",
    subtitle=f"after 0..{steps} steps on the five examples · bars outlined: the right answer"),
    key="hw_probs")
st.caption("Before adapting, the network cannot know which label is which (A–E are new to "
           "it), so it is at chance. Each step on the five examples shifts the probabilities; a "
           "meta-learned network becomes sure of the right answer within a step or two.")

st.subheader("Your turn: copy one of the five characters")
ss.setdefault("hw_strokes", [])
st.image([255 - im for im in ep["support_img"]], width=56,
         caption=[hw.LETTERS[j] for j in range(len(chars))])
d1, d2 = st.columns([1, 1.6])
ev = d1.plotly_chart(figures.drawing_canvas(ss.hw_strokes, title="Draw here",
                                            subtitle="drag to draw a stroke; repeat"),
                     key=f"hw_canvas_{len(ss.hw_strokes)}", on_select="rerun",
                     selection_mode="lasso", config={"displayModeBar": False})
lasso = ((ev or {}).get("selection") or {}).get("lasso") or []
if lasso and len(lasso[-1].get("x", [])) > 1:
    ss.hw_strokes.append([[float(x), float(y)] for x, y in zip(lasso[-1]["x"], lasso[-1]["y"])])
    st.rerun()
meant = d2.radio("Which of them did you copy?", range(len(chars)), horizontal=True,
                 format_func=lambda j: hw.LETTERS[j], key="hw_meant",
                 help="The right answer for your drawing (one of the five characters above, not "
                      "the Latin letter): its bar is outlined below.")
if d2.button("Clear my drawing", disabled=not ss.hw_strokes,
             help="Remove your strokes and start a new drawing"):
    ss.hw_strokes = []
    st.rerun()
if ss.hw_strokes:
    mine = hw.with_drawing(ep, hw.rasterize(ss.hw_strokes))
    yours = {a: hw.guesses(runs[a], mine, steps)["probs"][:, -1] for a in ALGOS}
    d2.plotly_chart(figures.class_probabilities(
        {a: (ui.label(a), yours[a]) for a in ALGOS}, meant, title="Your drawing",
        subtitle=f"probabilities after 0..{steps} steps on the five examples", height=340),
        key="hw_yours")
d1.caption("Copy one of the five characters above (A–E are only their names). "
           "Each drag of the mouse (or finger) is one pen stroke. Your drawing is shrunk to "
           "28×28 pixels, like the dataset's, and classified with the drawings above.")

with st.expander("How good is it over many tasks?"):
    rows, proto = [], {}
    for a in ui.algos(family="omniglot"):
        r = ui.get_run(ui.config_for("omniglot", a))
        if r is not None and r.metrics:
            proto = r.metrics.get("protocol", {})
            res = {x["step"]: x for x in r.metrics["results"]}
            rows.append({"algorithm": ui.label(a), "before adapting": res[0]["mean"],
                         "after 1 step": res[1]["mean"], f"after {max(res)} steps": res[max(res)]["mean"],
                         "± (95% CI)": res[max(res)]["ci95"]})
    if rows:
        st.dataframe(rows, hide_index=True, column_config={
            k: st.column_config.NumberColumn(format="percent") for k in rows[0] if k != "algorithm"})
        n = proto.get("tasks")                       # from a file: a number or nothing
        st.caption(f"Accuracy on {n if isinstance(n, int) else 'the'} five-way one-shot tasks "
                   f"from the held-out alphabets ({runs['maml'].family.query_points} new "
                   f"drawings per character), each "
                   f"network adapting with a step size chosen on tasks of a validation alphabet "
                   f"it was not trained on; chance is 20%. The README has the full table.")
    else:
        st.info("No stored Omniglot runs with evaluation figures yet.")
