"""maml-viz home page: "Learn". The story of MAML for someone who has never heard of it, drawn
from bundled runs with no waiting: every number and curve comes from assets/learn.json
(python -m maml_viz learn-data; maml_viz/views/learn.py computes it), so this page never
imports torch unless the reader asks for another task. The story's scenes (what each says and
draws, the predict-then-reveal questions, the hands-on chart) are pages/_shared/learn_scenes.py;
presenter mode (?demo=1, ?scene=N) and controls hidden from the URL (?hide=) are
pages/_shared/present.py. Other pages live in pages/."""
import pages._shared.boot  # noqa: F401  (first: imports, one session at a time)
import streamlit as st

from maml_viz.views import learn
from pages._shared import learn_scenes, present, ui

ui.setup("Learn", "🎓", light=True)
demo = present.demo()
if not demo:
    present.toggle()
# the gallery has a 4-column and a 2-column version; a phone (<= 480 px) sees the second
st.html("<style>.st-key-gallery-narrow{display:none}@media (max-width:480px){"
        ".st-key-gallery-wide{display:none}.st-key-gallery-narrow{display:flex}}</style>")
scene = present.walk([title for title, _ in learn_scenes.SCENES])
if scene in (None, 1):
    st.title("Learning to learn, in pictures")

data = learn.load(ui.ROOT / "assets" / "learn.json")
seed = st.session_state.get("learn_seed", learn.TASK_SEED)
if data is None or seed != learn.TASK_SEED:            # computed live: needs torch and the runs
    need = [("sinusoid", a) for a in ("maml", "pretrained")]
    if data is None:
        need += [(f, a) for f in ("wave",) for a in ("maml", "pretrained", "fomaml", "reptile")]
    if len(ui.runs_or_train([ui.config_for(f, a) for f, a in need], "learn")) < len(need):
        st.stop()
    store = ui.backend().store
    data = learn.compute(store, seed) if data is None else {**data, "sine": learn.sine(store, seed)}


@st.cache_resource(show_spinner=False, max_entries=8)
def pictures(key, scale, _data):   # shared by all sessions: figures are rebuilt only for new data
    saved = learn.stored_specs(_data, ui.ROOT / "assets" / learn.FIGURES) if scale == 1 else None
    if saved is None:
        import pages._shared.figures_warm  # noqa: F401  (building figures: plotly's modules, once)
        saved = learn.specs(_data, scale)
    return saved, learn.gallery_svgs(_data)


figs, svgs = pictures(learn.fingerprint(data), 1.35 if demo else 1.0, data)
story = learn_scenes.Story(data=data, words=learn.texts(data), asks=learn.predictions(data),
                           figs=figs, svgs=svgs, demo=demo)
for i, (_, draw) in enumerate(learn_scenes.SCENES, 1):
    if scene in (None, i):
        draw(story)
