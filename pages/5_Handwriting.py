"""Handwriting: a network meta-trained on handwritten characters (Omniglot) learns five letters
of an alphabet it never saw from one drawing each, and recognises other people's drawings of
them. MAML beside a network pretrained the usual way; a step slider scrubs in the browser. The
adapted networks are kept per (run, characters, drawings) for every session and the next "Other
drawings" computed ahead; "Other drawings" re-runs only the parts the drawings change (keyed
fragments); your own drawing is drawn in the browser and only its guesses re-run per stroke."""
import pages._shared.preload  # noqa: F401  (first: imports, one session at a time)
import streamlit as st

from maml_viz.views import handwriting as hw
from maml_viz.views.figures.handwriting import class_probabilities
from pages._shared import handwriting_ui as hw_ui
from pages._shared import ui
from pages._shared.drawing_pad import drawing_pad

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
ss.hw_parts = []                       # the fragments the drawings change, once drawn


def other_drawings():                  # reruns only what the drawings change
    ss.hw_draw += 1
    if ss.hw_parts:
        st.rerun(ss.hw_parts)


c1, c2, c3, c4 = st.columns([1, 3, 1, 1], vertical_alignment="bottom")
alphabet = c1.selectbox("Alphabet", held, key="hw_alphabet", format_func=hw.alphabet_name,
                        help="Held out: the network never saw these alphabets in training.")
chars = c2.multiselect(
    "Characters to learn (five)", hw.characters(alphabet),
    default=hw.pick_characters(alphabet, 5, ss.hw_seed), max_selections=5,
    format_func=lambda c: hw.character_name(c).split(", ")[1], key=f"hw_chars_{alphabet}_{ss.hw_seed}",
    help="Pick the five characters of the task; the network learns them from one drawing each.")
if c3.button("Other characters", width="stretch", help="Five other characters of this alphabet"):
    ss.hw_seed += 1
    st.rerun()
c4.button("Other drawings", width="stretch", on_click=other_drawings,
          help="Other people's drawings of the same characters (to learn from and to test)")
if len(chars) < 5:
    st.warning(f"Pick five characters (now {len(chars)}): the network was trained on five-way "
               "tasks.")
    st.stop()

ALGOS, NO_BAR = hw_ui.ALGOS, {"displayModeBar": False}
runs = ui.runs_or_train([ui.config_for("omniglot", a) for a in ALGOS], "hw")
if any(a not in runs for a in ALGOS):
    st.stop()
for r in runs.values():
    ui.partial_warning(r)
steps, memo, label = runs["maml"].family.eval_steps, ui.memo("hw"), {a: ui.label(a) for a in ALGOS}


def job(a: str, draw: int):            # run a adapted to the episode of these drawings
    def work():
        e = hw.episode(chars, draw)
        kept = hw.adapt_steps(runs[a], e, steps)
        return {"adapted": kept, "guesses": hw.guesses(runs[a], e, steps, kept)}
    return (runs[a].key, tuple(chars), draw, steps), work


def current(part: str) -> dict:        # each run's "adapted" or "guesses" on these drawings
    return {a: memo.get(*job(a, ss.hw_draw))[part] for a in ALGOS}


@st.fragment(key="hw_episode")
def episode_view():
    ep, out = hw.episode(chars, ss.hw_draw), current("guesses")
    hw_ui.grids(ep, out, label, steps, runs["maml"].config.inner_lr)
    hw_ui.probabilities(ep, out, label, steps)
    st.subheader("Your turn: copy one of the five characters")
    st.image([255 - im for im in ep["support_img"]], width=56,
             caption=[hw.LETTERS[j] for j in range(len(chars))])
    for a in ALGOS:                               # what "Other drawings" will ask for next
        memo.warm(*job(a, ss.hw_draw + 1))


@st.fragment(key="hw_turn")
def your_turn():
    """The user's drawing: strokes drawn in the browser; a stroke's end re-runs only this."""
    ui.one_thread()
    ep, adapted = hw.episode(chars, ss.hw_draw), current("adapted")
    d1, d2 = st.columns([1, 1.6])
    with d1:
        strokes = drawing_pad("hw_pad")
        st.caption("Copy one of the five characters above (A–E are only their names). Each drag "
                   "of the mouse (or finger) is one pen stroke. Your drawing is shrunk to 28×28 "
                   "pixels, like the dataset's, and classified with the drawings above.")
    meant = d2.radio("Which of them did you copy?", range(len(chars)), horizontal=True,
                     format_func=lambda j: hw.LETTERS[j], key="hw_meant",
                     help="The right answer for your drawing (one of the five characters above, "
                          "not the Latin letter): its bar is outlined below.")
    if strokes:
        mine = hw.with_drawing(ep, hw.rasterize(strokes))["xq"]
        yours = {a: (label[a], hw.classify(adapted[a], mine)[:, -1]) for a in ALGOS}
        d2.plotly_chart(class_probabilities(
            yours, meant, title="Your drawing", height=340,
            subtitle=f"probabilities after 0..{steps} steps on the five examples"), key="hw_yours",
            config=NO_BAR)
    else:
        d2.caption("Draw in the square: the two networks' guesses for your drawing appear here.")


episode_view()
your_turn()
ss.hw_parts = ["hw_episode", "hw_turn"]


@st.fragment(key="hw_note")
def note(table):                       # read from the pretrained network's guesses here
    text = hw.random_beats_pretrained(table["final"], table["labels"], table["kinds"],
                                      current("guesses")["pretrained"]["probs"])
    if text:
        st.markdown(text)


with st.expander("How good is it over many tasks?"):
    table = hw.results_table({a: ui.get_run(ui.config_for("omniglot", a))
                              for a in ui.algos(family="omniglot")}, ui.label)
    if table["rows"]:
        st.dataframe(table["rows"], hide_index=True, column_config={
            k: st.column_config.NumberColumn(format="percent")
            for k in table["rows"][0] if k != "algorithm"})
        st.caption(table["caption"])
        note(table)
        ss.hw_parts.append("hw_note")
    else:
        st.info("No stored Omniglot runs with evaluation figures yet.")
