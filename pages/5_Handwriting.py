"""Handwriting: a network meta-trained on handwritten characters (Omniglot) learns five letters
of an alphabet it never saw from one drawing each, and recognises other people's drawings of
them. MAML beside a network pretrained the usual way; a step slider scrubs in the browser. The
adapted networks are kept per (run, characters, drawings) for every session; the next "Other
drawings" is computed ahead and its grids handed to the page, which draws them at once on a press
(pages/_shared/hw_grids.py), the next "Other characters" is computed ahead too; your own drawing
is drawn in the browser and only the part of the page that shows its guesses re-runs when a
stroke ends (the pad draws their chart beside it)."""
import pages._shared.preload  # noqa: F401  (first: imports, one session at a time)
import streamlit as st

from maml_viz.views import handwriting as hw
from maml_viz.views.figures.handwriting import class_probabilities
from pages._shared import hw_grids, ui
from pages._shared.drawing_pad import drawing_pad, strokes_now

b = ui.setup("Handwriting", "✍️")
if not ui.omniglot_ok():                 # the data file is checked before anything reads it
    st.stop()
st.title("Handwriting: new letters from one example")
held, seen = hw.alphabets(), hw.training_alphabets()
st.markdown(
    "People learn a new letter from one example and then read it in anyone's handwriting. Can "
    f"a network? This one was meta-trained on {len(seen)} alphabets of handwritten characters "
    f"(Omniglot); {' and '.join(f'**{hw.escape(hw.alphabet_name(a))}**' for a in held)} it has "
    "**never seen**. It gets one drawing of each of five characters (top row), takes a few "
    "gradient steps on them, and guesses the drawings below.")
ss = st.session_state
ss.setdefault("hw_seed", 0)
ss.setdefault("hw_draw", 0)

c1, c2, c3, c4 = st.columns([1, 3, 1, 1], vertical_alignment="bottom")
alphabet = c1.selectbox("Alphabet", held, key="hw_alphabet", format_func=hw.alphabet_name,
                        help="Held out: the network never saw these alphabets in training.")
chars = c2.multiselect(
    "Characters to learn (five)", hw.characters(alphabet),
    default=hw.pick_characters(alphabet, 5, ss.hw_seed), max_selections=5,
    format_func=lambda c: hw.character_name(c).split(", ")[1], key=f"hw_chars_{alphabet}_{ss.hw_seed}",
    help="Pick the five characters of the task; the network learns them from one drawing each.")
c3.button("Other characters", width="stretch", help="Five other characters of this alphabet",
          on_click=lambda: ss.update(hw_seed=ss.hw_seed + 1))     # before the run: one run
if c4.button("Other drawings", width="stretch", key="hw_other",
             help="Other people's drawings of the same characters (to learn from and to test)"):
    ss.hw_draw += 1
if len(chars) < 5:
    st.warning(f"Pick five characters (now {len(chars)}): the network was trained on five-way "
               "tasks.")
    st.stop()

ALGOS, NO_BAR = ("maml", "pretrained"), {"displayModeBar": False}
runs = ui.runs_or_train([ui.config_for("omniglot", a) for a in ALGOS], "hw")
if any(a not in runs for a in ALGOS):
    st.stop()
for r in runs.values():
    ui.partial_warning(r)
steps, memo, label = runs["maml"].family.eval_steps, ui.memo("hw"), {a: ui.label(a) for a in ALGOS}


def job(a: str, draw: int, cs: tuple):     # run a adapted to the episode of these drawings
    def work():
        e = hw.episode(list(cs), draw)
        kept = hw.adapt_steps(runs[a], e, steps)
        return {"adapted": kept, "guesses": hw.guesses(runs[a], e, steps, kept)}
    return (runs[a].key, cs, draw, steps), work


def grids(draw: int, cs: tuple):         # the two grids of these drawings, as the page holds them
    def work():
        e = hw.episode(list(cs), draw)
        g = {a: memo.get(*job(a, draw, cs))["guesses"] for a in ALGOS}
        return hw_grids.entry(**hw.grid_charts(e, g, label, steps, runs["maml"].config.inner_lr))
    return (tuple(r.key for r in runs.values()), cs, draw, steps, "grids"), work


ep, cs = hw.episode(chars, ss.hw_draw), tuple(chars)
done = {a: memo.get(*job(a, ss.hw_draw, cs)) for a in ALGOS}
adapted, out = {a: d["adapted"] for a, d in done.items()}, {a: d["guesses"] for a, d in done.items()}
true = ep["yq"][0].numpy()
sig = "|".join([*(r.key for r in runs.values()), *map(str, chars), str(steps)])
hw_grids.grids(sig, ss.hw_draw, memo.get(*grids(ss.hw_draw, cs)), 560, "hw_other",
               key="hw_grids")

st.subheader("How sure is it? One drawing, step by step")
q = len(true) // len(chars)
pick = st.selectbox(
    "Drawing to inspect", range(len(true)), key="hw_pick",
    format_func=lambda i: f"a drawing of {hw.LETTERS[true[i]]} (#{i % q + 1})",
    help="One of the new drawings above: its bars show each network's probability for A–E.")
st.plotly_chart(class_probabilities(
    {a: (label[a], out[a]["probs"][:, pick]) for a in ALGOS}, int(true[pick]),
    title=f"Probabilities for a drawing of {hw.LETTERS[true[pick]]}",
    subtitle=f"after 0..{steps} steps on the five examples · bars outlined: the right answer"),
    key="hw_probs", config=NO_BAR)
st.caption(hw.probabilities_caption(label, {a: out[a]["probs"][:, pick] for a in ALGOS},
                                    int(true[pick])))


st.subheader("Your turn: copy one of the five characters")
st.image([255 - im for im in ep["support_img"]], width=56,
         caption=[hw.LETTERS[j] for j in range(len(chars))])


@st.fragment
def your_turn():
    """The user's drawing: strokes drawn in the browser; a stroke's end re-runs only this, and
    the guesses' chart goes to the pad, which draws it beside the square."""
    ui.one_thread()
    meant = st.radio("Which of the five are you copying?", range(len(chars)), horizontal=True,
                     format_func=lambda j: hw.LETTERS[j], key="hw_meant",
                     help="The right answer for your drawing (one of the five characters above, "
                          "not the Latin letter): its bar is outlined in the chart.")
    spec, strokes = "", strokes_now("hw_pad")
    if strokes:
        mine = hw.with_drawing(ep, hw.rasterize(strokes))["xq"]
        yours = {a: (label[a], hw.classify(adapted[a], mine)[:, -1]) for a in ALGOS}
        spec = class_probabilities(
            yours, meant, title="Your drawing", height=340,
            subtitle=f"probabilities after 0..{steps} steps on the five examples").to_json()
    drawing_pad("hw_pad", chart=spec, height=340,
                note="Draw in the square: the two networks' guesses for your drawing appear here.")
    st.caption("Copy one of the five characters above (A–E are only their names). Each drag of "
               "the mouse (or finger) is one pen stroke. Your drawing is shrunk to 28×28 pixels, "
               "like the dataset's, and classified with the drawings above.")


your_turn()

with st.expander("How good is it over many tasks?"):
    table = hw.results_table({a: ui.get_run(ui.config_for("omniglot", a))
                              for a in ui.algos(family="omniglot")}, ui.label)
    if table["rows"]:
        st.dataframe(table["rows"], hide_index=True, column_config={
            k: st.column_config.NumberColumn(format="percent")
            for k in table["rows"][0] if k != "algorithm"})
        st.caption(table["caption"])
        note = hw.random_beats_pretrained(table["final"], table["labels"], table["kinds"],
                                          out["pretrained"]["probs"])
        if note:
            st.markdown(note)
    else:
        st.info("No stored Omniglot runs with evaluation figures yet.")
# what "Other drawings" draws next, handed over now; "Other characters"' next task, computed by
# the memo's worker meanwhile (its adapted networks and grids: the press then finds them ready)
hw_grids.feed(sig, {ss.hw_draw + 1: memo.get(*grids(ss.hw_draw + 1, cs))})
memo.warm(*grids(ss.hw_draw, tuple(hw.pick_characters(alphabet, 5, ss.hw_seed + 1))))
