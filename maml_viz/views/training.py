"""The Train page's live charts as data: the measure every running job records, drawn while it
trains.
"""
from __future__ import annotations

import functools

from ..engine.algorithms import get_algorithm
from ..engine.tasks import RLFamily, SupervisedFamily, make_family
from .figures.curves import loss_histories


# ----------------------------------------------------------------------------- live training
@functools.singledispatch
def training_measure(family) -> dict:
    """What a family's training history ("meta_loss") holds: chart title, measure, caption."""
    raise NotImplementedError(f"no training measure for {type(family).__name__}")


@training_measure.register
def _(family: SupervisedFamily):
    return {"title": "Meta-loss while training", "metric": "mse",
            "caption": "The error after adaptation, averaged over each batch of tasks: it should "
                       "go down as the starting point gets better."}


@training_measure.register
def _(family: RLFamily):
    return {"title": "Return while training", "metric": "return",
            "caption": "The average return after adaptation per meta-iteration: it should go up."}


def live_training_charts(jobs) -> list:
    """Charts of the jobs' histories, one per kind of measure: [(key, figure, caption)]."""
    groups = {}
    for j in jobs:
        if j.history["iteration"]:
            m = training_measure(make_family(j.config.family, j.config.family_options))
            groups.setdefault(m["title"], (m, {}))[1][j.config.algo] = (
                j.history["iteration"], j.history["meta_loss"])
    return [(f"train_live_{m['metric']}", loss_histories(
                hist, title=title, labels={a: get_algorithm(a).label for a in hist},
                metric=m["metric"]), m["caption"]) for title, (m, hist) in groups.items()]
