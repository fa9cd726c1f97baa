"""Presenter mode and controls hidden from the URL, for any page (ui.setup calls `apply`).

- `?hide=name,name`: hides those controls, as TensorFlow Playground's hidden controls do, so a
  teacher can share a link that shows only what the lesson needs. A name is a widget's key (or
  the start of a family of keys: `pg_lr` hides `pg_lr_<run>`), or a page's short alias for one
  (ALIASES: on the Playground `?hide=k,alpha`). Names are letters, digits, _ and - only; others
  are ignored with a notice (the link's text is never echoed).
- `?demo=1`: presenter mode. Every page gets bigger type for a projector; a page that tells a
  story in scenes (`walk`) shows one scene at a time with Back / Next buttons, the arrow keys
  (and a clicker's Page Up / Page Down), its scene number in the URL (`?demo=1&scene=3`: every
  scene is a link of its own) and no sidebar. `toggle` offers it in the sidebar.
"""
from __future__ import annotations

import re

import streamlit as st

HIDE, DEMO, SCENE = "hide", "demo", "scene"
NAME = re.compile(r"^[A-Za-z0-9_-]{1,60}$")
# short names a link may use for a page's widget keys (the keys themselves always work)
ALIASES = {
    "Playground": {"family": "pg_family", "algo": "pg_algo", "algorithm": "pg_algo",
                   "run": "pg_run", "k": "pg_k", "alpha": "pg_lr", "lr": "pg_lr",
                   "steps": "pg_steps", "only": "pg_only", "class": "pg_class",
                   "csv": "pg_upload", "upload": "pg_upload", "paste": "pg_paste"},
    "Learn": {"another": "learn_new", "predict": "pred", "try": "learn_try",
              "present": "learn_present", "advanced": "learn_advanced"},
}
PROJECTOR_CSS = """html { font-size: 20px; }
[data-testid="stMainBlockContainer"] { max-width: 1600px; padding-top: 2.5rem; }
[data-testid="stCaptionContainer"] { font-size: 1rem; }"""
NO_SIDEBAR_CSS = """[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"] { display: none !important; }"""
KEYS_JS = """(function () {
  if (window.__mavizScenes) return;
  window.__mavizScenes = true;
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    var t = e.target;
    if (t && t.closest && t.closest("input, textarea, select, [contenteditable='true']")) return;
    var which = (e.key === "ArrowRight" || e.key === "PageDown") ? "next"
              : (e.key === "ArrowLeft" || e.key === "PageUp") ? "back" : null;
    var b = which && document.querySelector(".st-key-scene_" + which + " button");
    if (b && !b.disabled) { e.preventDefault(); b.click(); }
  });
  // a choice made with the mouse gives the focus back to the page, so that the next arrow key
  // moves to the next scene instead of changing the choice (keyboard users keep their focus)
  document.addEventListener("click", function (e) {
    if (e.detail > 0 && e.target.closest && e.target.closest('[data-testid="stRadio"]'))
      setTimeout(function () { if (document.activeElement) document.activeElement.blur(); }, 0);
  }, true);
})();"""


def demo() -> bool:
    """Whether the page is in presenter mode (?demo=1)."""
    return st.query_params.get(DEMO) == "1"


def parse_hidden(raw: str | None, aliases: dict | None = None) -> tuple[list, bool]:
    """(widget keys or key prefixes to hide, whether some names were invalid) from ?hide=."""
    keys, bad = [], False
    for name in (raw or "").split(","):
        name = name.strip()
        if not name:
            continue
        if not NAME.match(name):
            bad = True
            continue
        keys.append((aliases or {}).get(name.lower(), name))
    return list(dict.fromkeys(keys)), bad


def css_for(keys) -> str:
    """CSS that hides the elements with these keys, and keys that start with key + '_'."""
    sel = [s for k in keys if NAME.match(k)
           for s in (f".st-key-{k}", f'[class*="st-key-{k}_"]')]
    return f"{', '.join(sel)} {{ display: none !important; }}" if sel else ""


def hidden(page: str = "") -> list:
    """The keys this page's link hides."""
    return parse_hidden(st.query_params.get(HIDE), ALIASES.get(page))[0]


def shown(key: str, page: str = "") -> bool:
    """False if the link hides the control with this key (or a prefix of it, before a '_')."""
    return not any(key == k or key.startswith(k + "_") for k in hidden(page))


def apply(page: str = ""):
    """Hide what the link's ?hide= names and, in presenter mode, enlarge the type."""
    keys, bad = parse_hidden(st.query_params.get(HIDE), ALIASES.get(page))
    css = css_for(keys) + ("\n" + PROJECTOR_CSS if demo() else "")
    if css:
        st.html(f"<style>{css}</style>")
    if bad:
        st.caption("Some names in this link's hide= list are not control names (letters, "
                   "digits, _ and - only) and were ignored.")


def toggle(key: str = "learn_present"):
    """A sidebar switch into presenter mode (the mode itself hides the sidebar: its bar has an
    Exit button)."""
    def enter():
        if st.session_state.get(key):
            st.query_params[DEMO] = "1"
            st.query_params[SCENE] = "1"
            st.session_state[key] = False
    st.sidebar.toggle("Presenter mode", key=key, on_change=enter,
                      help="One scene at a time, big type for a projector, Back / Next with the "
                           "arrow keys; the address of each scene is a link to it (?demo=1&scene=N)")


def _go(n: int):
    st.query_params[SCENE] = str(n)


def _leave():
    for k in (DEMO, SCENE):
        if k in st.query_params:
            del st.query_params[k]


def walk(titles: list) -> int | None:
    """Presenter mode's scenes: None when not presenting; else the scene to show (1-based),
    after drawing its bar (Back, Next, the scene's number and title, Exit) and the arrow keys'
    script, with the sidebar hidden and the scene's number in the URL."""
    if not demo():
        return None
    n, raw = len(titles), st.query_params.get(SCENE, "1")
    scene = int(raw) if raw.isdigit() and 1 <= int(raw) <= n else 1
    if str(scene) != raw:
        st.caption(f"This link's scene number is not one of 1 to {n}: showing scene 1.")
        st.query_params[SCENE] = "1"
    st.html(f"<style>{NO_SIDEBAR_CSS}</style>")
    with st.container(key="scene_bar", horizontal=True, vertical_alignment="center"):
        st.button("◀ Back", key="scene_back", on_click=_go, args=(scene - 1,),
                  disabled=scene == 1, help="The previous scene (← or Page Up)")
        st.button("Next ▶", key="scene_next", on_click=_go, args=(scene + 1,),
                  disabled=scene == n, help="The next scene (→ or Page Down)")
        st.markdown(f"**Scene {scene} of {n}** · {titles[scene - 1]}")
        st.button("Exit presenter mode", key="scene_exit", on_click=_leave,
                  help="Back to the whole page, with the sidebar")
    st.html(f"<script>{KEYS_JS}</script>", unsafe_allow_javascript=True)
    return scene
