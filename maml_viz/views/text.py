"""Outside text shown safely: the one escaping helper for every string that comes from a user, a
link, a file or a folder name and is shown by the app.

Streamlit renders the body of st.markdown, st.caption, st.warning/error/info/success, st.toast
and a progress bar's text as (GitHub-flavoured) Markdown: a value like
`![x](http://host/p.png)` makes the browser fetch an image, `[log in](http://host/phish)` draws a
link, `http://host` alone is turned into a link, `:red[...]`, `$...$` and `<b>` have meanings of
their own. `esc` makes such a value read literally: every ASCII punctuation character is
backslash-escaped (CommonMark lets any of them be escaped, and an escaped character is never
markup), and line breaks and other control characters become spaces (a value cannot start a new
block: a heading, a list, a code block). Pure: imports nothing.
"""
from __future__ import annotations

import string

_PUNCT = frozenset(string.punctuation)
MAX_CHARS = 2000                 # an outside value longer than this is cut (a message, not a file)


def esc(value, limit: int = MAX_CHARS) -> str:
    """`value` as text that Streamlit's Markdown shows exactly as written (no link, image,
    HTML, emphasis, directive or formula), on one line, at most `limit` characters (then '…')."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    out = []
    for ch in text:
        if ch in _PUNCT:
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f" or ch in "\u2028\u2029\u0085":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def unescape(text: str) -> str:
    """What `esc(value)` shows (tests and plain-text outputs): backslash escapes removed."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _PUNCT:
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
