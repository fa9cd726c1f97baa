"""The Learn page's words: every sentence that states a number or a claim is filled in from the
page's data (assets/learn.json), nothing written by hand that the data could contradict; the
predict-then-reveal questions with the answer the data give; *italic* jargon is linked to the
glossary (views/glossary.py). Pure: json data in, strings out."""
from __future__ import annotations

import math

from . import learn_race
from .glossary import linkify

FULL = {"maml": "MAML (Model-Agnostic Meta-Learning)", "fomaml": "FOMAML (First-Order MAML)",
        "reptile": "Reptile"}


def _num(v: float) -> str:
    return f"{v:.2f}" if abs(v) >= 0.01 else f"{v:.1g}"


def _lr_note(pa: dict) -> str:
    """', each with the step size chosen on validation tasks (MAML α = .., pretrained α = ..)'
    when the stored evaluation says which step size it used."""
    lrs = [pa[a]["after"].get("lr") for a in ("maml", "pretrained")]
    if None in lrs:
        return ""
    return (f", each with the step size chosen on *validation tasks* (MAML α = {lrs[0]:g}, "
            f"pretrained α = {lrs[1]:g})")


def plane_facts(p: dict) -> dict:
    """Where MAML's start sits among the tasks' best weights, from the data: the option of the
    second prediction that is true ('pretrained', 'middle', 'one task', 'outside')."""
    opt = [(o[0], o[1]) for o in p["optima"]]
    sm, sp = p["starts"]["maml"], p["starts"]["pretrained"]
    (alo, ahi), (blo, bhi) = p["amp_range"], p["phase_range"]
    mid_b = (blo + bhi) / 2
    near_task = min(math.hypot(sm[0] - a, sm[1] - b) for a, b in opt)
    to_pre = math.hypot(sm[0] - sp[0], sm[1] - sp[1])
    if to_pre < 0.25 * p["spread"]:
        where = "pretrained"
    elif sm[0] > ahi or sm[0] < alo or not blo <= sm[1] <= bhi:
        where = "outside"
    elif abs(sm[1] - mid_b) < 0.2 * (bhi - blo):
        where = "middle"
    else:
        where = "one task"
    return {"where": where, "near_task": near_task, "to_pretrained": to_pre, "mid_b": mid_b}


def predictions(data: dict) -> dict:
    """The three predict-then-reveal moments: question, options, the answer the data give, and
    a sentence on why (numbers from the data)."""
    s, p, r = data["sine"], data["plane"], data["race"]
    pre, maml = s["pretrained"]["error"][1], s["maml"]["error"][1]
    sine_opts = ["The pretrained network", "The MAML network", "About the same"]
    sine = sine_opts[2] if abs(pre - maml) < 0.1 * max(pre, maml) else \
        sine_opts[0] if pre < maml else sine_opts[1]
    plane_opts = {"pretrained": "Near the pretrained star: the average wave is the best start",
                  "middle": "Among the grey dots, in the middle: a full-height wave with a "
                            "middle shift",
                  "one task": "On one particular task's best weights",
                  "outside": "Outside the grey dots: a wave taller or shifted more than any task"}
    pf, f = plane_facts(p), learn_race.facts(r)
    sm, sp = p["starts"]["maml"], p["starts"]["pretrained"]
    # before and after one step: the protocol's numbers (the ones §4's paragraph quotes, on
    # held-out tasks), else those of the plane's drawn tasks
    prot = {a: p["protocol"][a] or {} for a in ("maml", "pretrained")}
    if all(prot[a].get(w) for a in prot for w in ("before", "after")):
        n = f"On {prot['maml']['after']['tasks']} new tasks, b"
        bef = {a: prot[a]["before"]["mean"] for a in prot}
        aft = {a: prot[a]["after"]["mean"] for a in prot}
    else:
        n = f"On these {len(p['optima'])} tasks, b"
        bef = {a: p["mean_before"][a][0] for a in prot}
        aft = {a: p["mean_after"][a][0] for a in prot}
    ops = {a: r["cost"][learn_race.PLANE_FAMILY][a]["operations"] for a in r["algos"]}
    return {
        "sine": {
            "question": f"Both networks now take one gradient step on the same {len(s['xs'])} "
                        f"points of a new wave. Which one will be closer to the wave after that "
                        f"step?",
            "options": sine_opts, "answer": sine,
            "why": f"After one step the error is {maml:.2f} for MAML and {pre:.2f} for the "
                   f"pretrained network. The pretrained network learned the average of all the "
                   f"waves, a low wave (shorter than every task's) that one small step barely moves; MAML learned "
                   f"weights from which one step moves the curve a lot, toward the points."},
        "plane": {
            "question": "On the chart below, the orange star is where pretraining puts the two "
                        "weights: a low wave, shorter than the tasks'. Where will MAML's meta-training put its start θ?",
            "options": list(plane_opts.values()), "answer": plane_opts[pf["where"]],
            "why": f"MAML's start is a = {sm[0]:.2f}, b = {sm[1]:.2f} (pretraining's: a = "
                   f"{sp[0]:.2f}, b = {sp[1]:.2f}), {pf['near_task']:.2f} from the nearest task's "
                   f"best weights. {n}efore any step it is "
                   + ("a worse" if bef["maml"] > bef["pretrained"] else "as good or a better")
                   + f" guess than pretraining's (error {bef['maml']:.2f} against "
                   f"{bef['pretrained']:.2f}); after one step it is "
                   + ("better" if aft["maml"] < aft["pretrained"] else "not better")
                   + f" ({aft['maml']:.2f} against {aft['pretrained']:.2f}): it is a start made "
                   f"to adapt."},
        "cost": {
            "question": "Which variant does the least arithmetic in one meta-iteration?",
            "options": [FULL[a] for a in r["algos"]], "answer": FULL[f["cheapest"]],
            "why": "Counted: " + ", ".join(f"{learn_race.SHORT[a]} {ops[a]:,}"
                                           for a in f["order"]) +
                   " operations per meta-iteration. "
                   + ("FOMAML skips MAML's second derivatives. " if f["cheapest"] == "fomaml"
                      else "")
                   + (f"Reptile skips them too, and each of its steps is the cheapest, but it "
                      f"takes {r['configs']['reptile']['inner_steps']} steps per task."
                      if f["cheapest_per_step"] == "reptile" and f["cheapest"] != "reptile"
                      else "")},
    }


def texts(data: dict) -> dict:
    """The page's sentences that state numbers, filled in from `data`, jargon linked."""
    s, p, r, t = data["sine"], data["plane"], data["rules"], data["training"]
    pre, maml = s["pretrained"], s["maml"]
    lo, hi = s["amp_range"]
    ma, pa = p["mean_after"], p["protocol"]
    tun = p["tuned"]
    sp, sm = p["starts"]["pretrained"], p["starts"]["maml"]
    deg = r["angles"]
    rep = r["info"]["reptile"]
    e0, e1 = t["errors"][0], t["errors"][-1]
    race = learn_race.texts(data["race"])
    every = t["iterations"][1] - t["iterations"][0]
    out = {
        "sine": (
            "The pretrained network learned the average of the tasks: at any x some waves go up "
            "and others go down, so it became a wave only "
            f"{pre['height']:.1f} high (the tasks' heights go from {lo:g} to {hi:g}). One small "
            f"step on {len(s['xs'])} points of a new wave moves its curve by {pre['moved']:.2f} on "
            f"average (error {pre['error'][0]:.2f} → {pre['error'][1]:.2f}). MAML instead learned "
            f"weights that are ready to change: the same step moves its curve by "
            f"{maml['moved']:.2f}, onto the new wave (error {maml['error'][0]:.2f} → "
            f"{maml['error'][1]:.2f})."),
        "plane": (
            f"Grey rings: the average error after one step from a start at that point (over "
            f"{p['landscape']['tasks']} tasks; lowest inside). Averaging waves that are shifted "
            f"against each other shrinks them, so pretraining starts from a low wave (a = "
            f"{sp[0]:.2f}; the tasks' heights are {p['amp_range'][0]:g} to "
            f"{p['amp_range'][1]:g}). How far a step slides the shift b grows with the start's "
            f"height a, so from the flat wave the steps are short: error after one step "
            f"{ma['pretrained'][0]:.2f} ± {ma['pretrained'][1]:.2f}. MAML's start is a "
            f"full-height wave (a = {sm[0]:.2f}), in the middle of the rings: one step slides "
            f"each wave to its task's shift, error {ma['maml'][0]:.2f} ± {ma['maml'][1]:.2f} "
            f"(mean ± *95% interval* over these {len(p['optima'])} tasks, *K* = {p['k']} points, "
            f"one step, α = {p['inner_lr']:g}). On {pa['maml']['after']['tasks']} *held-out "
            f"tasks*{_lr_note(pa)}: {pa['maml']['after']['mean']:.2f} ± "
            f"{pa['maml']['after']['ci95']:.2f} against {pa['pretrained']['after']['mean']:.2f} ± "
            f"{pa['pretrained']['after']['ci95']:.2f}. Even with the *step size* that suits it "
            f"best (α = {tun['best_alpha']:g}), the pretrained start gets to "
            f"{tun['best_pretrained']:.2f}, MAML's {tun['maml']:.2f} ({tun['tasks']} tasks). "
            f"Before any step, MAML's start is the worse guess "
            f"({pa['maml']['before']['mean']:.2f} against "
            f"{pa['pretrained']['before']['mean']:.2f}): it is made to adapt, not to be right."),
        "rules": [
            (FULL["maml"], "asks: if θ moved a little, how would the error **after** the step "
                           "change? It follows that exact direction (the *meta-gradient*), so it "
                           "also counts that a taller start makes the step itself longer; that "
                           "needs *second derivatives*."),
            (FULL["fomaml"], "measures which way the error on the *query points* goes down at "
                             "the adapted weights θ′ and applies that to θ, as if the step did "
                             f"not depend on where it started: no second derivatives. Here "
                             f"{deg['fomaml']:.0f}° off MAML's direction."),
            (FULL["reptile"], f"moves θ without query points: it takes {rep['steps']} plain "
                              f"steps on each task and moves θ toward where they end (the open "
                              f"triangles), averaged over the tasks; here {deg['reptile']:.0f}° "
                              f"off MAML's."),
        ],
        "rules_caption": (
            f"From the pretrained start (star), on the same {len(r['tasks'])} tasks (grey dots, "
            f"{r['k']} points each; one step with α = {r['info']['maml']['inner_lr']:g} for MAML "
            f"and FOMAML, {rep['steps']} steps for Reptile): the direction each algorithm would "
            f"move θ, computed by the algorithms' own code. The arrows are drawn the same "
            f"length: they take steps of different sizes, so only the directions compare."),
        "training": (
            f"Meta-training of the 2-weight model from a *random init* (a = "
            f"{t['thetas'][0][0]:.2f}, b = {t['thetas'][0][1]:.2f}): each *meta-iteration* takes "
            f"{t['meta_batch']} tasks, one step on {t['k']} points of each (α = "
            f"{t['inner_lr']:g}), and moves θ so that the error after the step goes down. Below, "
            f"a task it never trained on (A = {t['task'][0]:.2f}, φ = {t['task'][1]:.2f}): from "
            f"θ at the start, one step leaves an error of {_num(e0[1])}; from θ after "
            f"{t['iterations'][-1]:,} meta-iterations, {_num(e1[1])}. A snapshot every "
            f"{every} meta-iterations (the slider's ticks are evenly spaced, as the iterations "
            f"are). Press play, or drag the slider."),
        "race_ends": race["ends"], "race_cost": race["cost"],
        "advanced": (
            f"Bundled runs (assets/runs): "
            f"{', '.join(sorted({*p['keys'].values(), r['key'], t['key'], pre['key'], maml['key'], *data['race']['keys'].values()}))}. "
            f"§5's snapshots and the race retrace those runs with the Trainer, same config and "
            f"seed; the last snapshot of §5, θ = {t['thetas'][-1]}, is the stored θ = "
            f"{t['stored']}. The arrows come from metagrad.meta_gradient (MAML, FOMAML) and "
            f"Reptile.step; the operation counts from each algorithm's own step (views/"
            f"learn_race.py). Learn data version {data['version']}; regenerate with `python -m "
            f"maml_viz learn-data`."),
    }
    out["rules"] = [(name, linkify(text)) for name, text in out["rules"]]
    return {k: linkify(v) if isinstance(v, str) and k != "advanced" else v for k, v in out.items()}
