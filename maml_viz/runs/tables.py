"""Tables out: evaluation and sweep tables as CSV and as LaTeX, for a paper.

- `to_csv(df)`: the frame as CSV text (numbers at full precision, non-finite as empty cells).
- `to_latex(df, caption, label, ...)`: a booktabs `table` with every cell escaped for LaTeX
  (user-derived text such as run labels can hold `_`, `%`, `&`, ...); written here rather than
  with pandas' `to_latex`, which needs jinja2 (not a dependency).
- `evaluation_table(frame)`: one run's evaluation (evaluate.evaluate or from_json) as a display
  table: one row per (K, step), "mean ± CI", median, diverged tasks, step size.
- `sweep_table(summary)`: `sweep --json`'s summary as one row per algorithm with, per step,
  "mean ± between-seed t-interval" and "IQM [95% interval]".
- `with_targets(table, targets)`: the same table with the paper's figures (paper.py) as rows.
Imports nothing of ours; pure functions over pandas frames and plain dicts.
"""
from __future__ import annotations

import math

import pandas as pd

LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                 "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                 "^": r"\textasciicircum{}", "±": r"$\pm$", "−": "-", "×": r"$\times$",
                 "√": r"$\surd$", "·": r"$\cdot$", "→": r"$\to$", "—": "---", "–": "--"}


def latex_escape(text) -> str:
    """Any value as LaTeX text: special characters escaped, a few symbols as math."""
    return "".join(LATEX_SPECIAL.get(c, c) for c in str(text))


def _fmt(v, digits: int) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.{digits}f}"
    return str(v)


def to_csv(df: pd.DataFrame) -> str:
    """CSV text with a header line; NaN/inf and None as empty cells; '\\n' line ends."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].where(out[c].map(lambda x: math.isfinite(x)), None)
    return out.to_csv(index=False, lineterminator="\n")


def to_latex(df: pd.DataFrame, caption: str | None = None, label: str | None = None,
             digits: int = 3, align: str | None = None, note: str | None = None) -> str:
    """A LaTeX table (needs \\usepackage{booktabs}): header row, one row per frame row, floats
    to `digits` decimals, every cell and the caption escaped. label: the \\label key (letters,
    digits, ':', '-', '_' only, else ValueError). note: a footnote line under the table."""
    if label is not None and not all(c.isalnum() or c in ":-_" for c in label):
        raise ValueError(f"a LaTeX label may hold letters, digits, ':', '-' and '_' only "
                         f"(got {label!r})")
    cols = list(df.columns)
    if align is None:
        align = "".join("r" if pd.api.types.is_numeric_dtype(df[c]) else "l" for c in cols)
    if len(align) != len(cols):
        raise ValueError(f"align needs one letter per column ({len(cols)}), got {align!r}")
    lines = ["% needs \\usepackage{booktabs}", "\\begin{table}[t]", "\\centering"]
    if caption:
        lines.append(f"\\caption{{{latex_escape(caption)}}}")
    if label:
        lines.append(f"\\label{{{label}}}")
    lines += [f"\\begin{{tabular}}{{{align}}}", "\\toprule",
              " & ".join(latex_escape(c) for c in cols) + " \\\\", "\\midrule"]
    for row in df.itertuples(index=False):
        lines.append(" & ".join(latex_escape(_fmt(v, digits)) for v in row) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    if note:
        lines.append(f"\\par\\smallskip{{\\footnotesize {latex_escape(note)}}}")
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def _pm(mean, half, digits) -> str:
    if mean is None or (isinstance(mean, float) and not math.isfinite(mean)):
        return "diverged"
    if half is None or (isinstance(half, float) and not math.isfinite(half)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def evaluation_table(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """One run's evaluation as a display table (see the module doc)."""
    rows = []
    for r in frame.to_dict(orient="records"):
        row = {"K": int(r["k_shot"]), "step": int(r["step"]),
               "mean ± 95% CI": _pm(r.get("mean"), r.get("ci95"), digits)}
        if "median" in r:
            row["median"] = _fmt(r["median"], digits)
        if "diverged" in r and "tasks" in r:
            row["diverged tasks"] = f"{int(r['diverged'])}/{int(r['tasks'])}"
        if "lr" in r:
            row["step size"] = r["lr"] if isinstance(r["lr"], str) else f"{r['lr']:g}"
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_table(summary: dict, digits: int = 3, iqm: bool = True) -> pd.DataFrame:
    """`sweep --json`'s summary as one row per algorithm (group): seeds, then per step the mean ±
    between-seed 95% t-interval and (iqm) the IQM [95% bootstrap interval]."""
    rows = []
    for g in summary.get("groups", []):
        row = {"algorithm": g["label"], "seeds": len(g["seeds"])}
        for s in g["steps"]:
            row[f"step {s['step']}"] = _pm(s.get("mean"), s.get("ci95"), digits)
            if iqm:
                e = s.get("iqm") or {}
                ci = e.get("ci95")
                row[f"step {s['step']} IQM"] = (
                    "n/a" if e.get("value") is None and not e.get("diverged") else
                    "diverged" if e.get("diverged") else
                    f"{e['value']:.{digits}f}" + (f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
                                                  if ci and None not in ci else ""))
        rows.append(row)
    return pd.DataFrame(rows)


def with_targets(table: pd.DataFrame, targets, digits: int = 3, name_column: str = "algorithm",
                 step_column=lambda step: f"step {step}") -> pd.DataFrame:
    """table plus one row per paper label (paper.Target objects or their dicts) with its values
    in the step columns that exist; the source in a 'source' column."""
    extra = {}
    for t in targets:
        t = t if isinstance(t, dict) else t.to_dict()
        row = extra.setdefault(t["label"], {name_column: t["label"], "source": t["source"]})
        col = step_column(t["step"])
        if col in table.columns:
            row[col] = _pm(t["value"], t.get("ci95"), digits)
    if not extra:
        return table
    out = pd.concat([table, pd.DataFrame(list(extra.values()))], ignore_index=True)
    out = out.astype(object).where(out.notna(), "")
    # a column left empty on the paper's rows holds text then: all of it (a table of one type
    # per column; Streamlit's Arrow conversion failed on numbers beside "" and logged it)
    for col in out.columns:
        if any(v == "" for v in out[col]) and not all(isinstance(v, str) for v in out[col]):
            out[col] = [v if isinstance(v, str) else f"{v:g}" if isinstance(v, float) else str(v)
                        for v in out[col]]
    return out
