"""Streamlit widgets for one stored run (open it elsewhere, download it, delete it after asking)
and for the store's trash; the pages that list runs share them."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import streamlit as st

from maml_viz.runs.files import StoreError, signature
from maml_viz.views.text import esc


def open_links(keys: list, where=None):
    """'Open in Playground' (the first run) and 'Open in Compare' (up to 5 runs)."""
    c1, c2, _ = (where or st).columns([1, 1, 3])
    c1.page_link("pages/1_Playground.py", label="Open in Playground", icon=":material/tune:",
                 query_params={"run": keys[0]}, help="Adapt this run to new tasks step by step.")
    c2.page_link("pages/3_Compare.py", label="Open in Compare", icon=":material/compare:",
                 query_params={"runs": ",".join(keys[:5])},
                 help="Compare these runs on the same tasks.")


@st.cache_data(show_spinner=False, max_entries=2, max_size=None)
def zipped(path: str, key: str, signature_: tuple) -> bytes:
    """A run's folder as a zip, built when a download is asked for (never on a rerun) and kept
    for the run's current files (`signature` changes when one is written)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(Path(path).iterdir()):
            z.write(f, arcname=f"{key}/{f.name}")
    return buf.getvalue()


def actions(b, entry: dict, name: str):
    """Open, download and delete (two steps, naming the run) one stored run."""
    ss, key = st.session_state, entry["key"]
    if entry["config"] is not None:
        open_links([key])
    path, sig = entry["path"], signature(Path(entry["path"]))
    c1, c2 = st.columns(2)
    c1.download_button("Download (zip)", lambda: zipped(path, key, sig), file_name=f"{key}.zip",
                       mime="application/zip", width="stretch",
                       help="The run's files: config, weights (safetensors), history, metrics.")
    if entry["read_only"] or not b.store.deletable(key):
        c2.button("Delete", disabled=True, width="stretch", help="Bundled runs are read-only.")
    elif ss.get("run_confirm_delete") != key:
        if c2.button("Delete…", width="stretch", help="Asks before deleting anything."):
            ss.run_confirm_delete = key
            st.rerun()
    else:
        st.warning(f"Delete **{esc(name)}**? It goes to the trash of {esc(b.store.roots[0])}, where it can "
                   f"be restored for 7 days.")
        yes, no, _ = st.columns([1, 1, 4])
        if yes.button("Yes, delete it", type="primary", help="Move this run to the trash."):
            try:
                b.store.delete(key)
            except StoreError as e:
                st.error(esc(e))
            b.jobs.forget(key)
            ss.run_confirm_delete = None
            st.rerun()
        if no.button("Keep it", help="Do not delete anything."):
            ss.run_confirm_delete = None
            st.rerun()


def trash(b):
    """Deleted runs, restorable."""
    entries = b.store.trash()
    if not entries:
        return
    with st.expander(f"Recently deleted ({len(entries)})"):
        back = st.selectbox("Deleted run", [t["entry"] for t in entries], key="run_trash",
                            help="Deleted runs stay here for 7 days, then the trash is emptied.")
        if st.button("Restore", help="Put this run back among the stored runs."):
            try:
                b.store.restore(back)
            except StoreError as e:
                st.error(esc(e))
            else:
                st.rerun()
