"""The paper's targets (paper.py) and tables out as CSV and LaTeX (tables.py)."""
import io
import math

import pandas as pd
import pyarrow as pa
import pytest

from maml_viz.engine.registry import make_config
from maml_viz.runs import paper, tables


def test_targets_match_family_k_steps_and_options():
    sine = paper.targets_for("sinusoid", 5, steps=[0, 1, 10])
    assert {(t.algo, t.step, t.value) for t in sine} == {
        ("maml", 1, 0.67), ("maml", 10, 0.35), ("pretrained", 1, 2.41), ("pretrained", 10, 2.19)}
    assert paper.targets_for("sinusoid", 10) == []               # figure only: not a target
    assert [t.value for t in paper.targets_for("navigation", 40, range(4), algos=["maml"])] == [
        -40.41, -11.68, -3.33, -3.23]
    five = paper.targets_for("omniglot", 1, steps=range(6), options={"n_way": 5})
    assert [(t.step, t.value, t.ci95) for t in five] == [(3, 0.987, 0.004)]
    twenty = paper.targets_for("omniglot", 5, options={"n_way": 20})
    assert [(t.step, t.value) for t in twenty] == [(5, 0.989)]
    assert paper.targets_for("omniglot", 1, 3, options={"n_way": 3}) == []
    for t in paper.TARGETS:
        assert "1703.03400" in t.source and t.protocol and t.caveat
    cfg = make_config(family="omniglot", algo="maml", family_options={"n_way": 20})
    assert {t.k_shot for t in paper.targets_for_config(cfg)} == {1, 5}
    assert paper.targets_for("blobs", 1) == [] and paper.NOT_REPORTED


def test_csv_round_trips_and_empties_non_finite_cells():
    df = pd.DataFrame({"algo": ["maml", "a,b"], "mean": [0.5, math.nan], "n": [1, 2]})
    text = tables.to_csv(df)
    back = pd.read_csv(io.StringIO(text))
    assert text.splitlines()[0] == "algo,mean,n" and back["algo"].tolist() == ["maml", "a,b"]
    assert back["mean"][0] == 0.5 and math.isnan(back["mean"][1])


def test_latex_escapes_every_cell_and_checks_the_label():
    df = pd.DataFrame({"algo_name": ["50% & $x_1$ {a} #1 ~ ^ \\"], "mean ± CI": ["0.1 ± 0.2"],
                       "v": [0.12345]})
    tex = tables.to_latex(df, caption="MSE_after 1 step", label="tab:sine-1")
    body = tex.split("\\midrule")[1]
    assert r"50\% \& \$x\_1\$ \{a\} \#1 \textasciitilde{} \textasciicircum{} \textbackslash{}" \
        in body
    assert r"0.1 $\pm$ 0.2" in body and "0.123" in body and r"algo\_name" in tex
    assert r"\caption{MSE\_after 1 step}" in tex and r"\label{tab:sine-1}" in tex
    assert tex.count("&") - tex.count(r"\&") == 2 * 2          # 3 columns: 2 separators a row
    assert tex.count("\\toprule") == tex.count("\\bottomrule") == 1
    with pytest.raises(ValueError, match="label"):
        tables.to_latex(df, label="bad}label")
    with pytest.raises(ValueError, match="align"):
        tables.to_latex(df, align="ll")


def test_evaluation_and_sweep_tables_with_targets():
    ev = pd.DataFrame({"algo": "maml", "k_shot": 5, "step": [0, 1], "mean": [3.1, math.inf],
                       "ci95": [0.1, math.nan], "median": [2.0, 0.5], "diverged": [0, 1],
                       "tasks": [100, 100], "lr_scale": 1.0, "lr": [0.01, 0.01], "metric": "mse"})
    t = tables.evaluation_table(ev)
    assert t["mean ± 95% CI"].tolist() == ["3.100 ± 0.100", "diverged"]
    assert t["diverged tasks"].tolist() == ["0/100", "1/100"]
    summary = {"groups": [{"label": "maml", "seeds": [0, 1, 2], "steps": [
        {"step": 1, "mean": 0.7, "ci95": 0.05, "iqm": {"value": 0.5, "ci95": [0.4, 0.6]}},
        {"step": 5, "mean": 0.4, "ci95": None, "iqm": {"value": None, "ci95": None}}]}]}
    s = tables.sweep_table(summary)
    assert s.iloc[0].to_dict() == {"algorithm": "maml", "seeds": 3, "step 1": "0.700 ± 0.050",
                                   "step 1 IQM": "0.500 [0.400, 0.600]", "step 5": "0.400",
                                   "step 5 IQM": "n/a"}
    full = tables.with_targets(s, paper.targets_for("sinusoid", 5, [1, 5]))
    paper_row = full[full["algorithm"] == "MAML (MAML paper)"].iloc[0]
    assert paper_row["step 1"] == "0.670" and paper_row["step 5"] == "0.380"
    assert "Table 2" in paper_row["source"] and paper_row["step 1 IQM"] == ""
    assert "MAML (MAML paper)" in tables.to_latex(full) and tables.to_csv(full).count("\n") == 4
    # a numeric column the paper's rows leave empty becomes text, whole: one type per column,
    # as Streamlit's tables (Arrow) need
    seeds = full["seeds"].tolist()
    assert seeds[0] == "3" and len(seeds) > 1 and set(seeds[1:]) == {""}
    pa.Table.from_pandas(full)


def test_evaluate_prints_the_papers_figure_beside_the_row(tmp_path, capsys):
    from maml_viz import cli
    from maml_viz.engine.train import train
    from maml_viz.runs.saving import save_run
    run = train(make_config(family="sinusoid", algo="scratch"), "cpu")
    path = save_run(run, tmp_path)
    assert cli.main(["evaluate", str(path), "--k-shot", "5", "--steps", "1", "--tasks", "10",
                     "--step-size", "trained"]) == 0
    out = capsys.readouterr().out
    assert "reference: MAML (MAML paper) 0.67 after 1 steps" in out and "Table 2" in out
    assert "reference: Pretrained (MAML paper) 2.41" in out and "0.38" not in out
