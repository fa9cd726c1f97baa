"""The engine's side of the Compare page's browser checks: a bundled run's curve on a task, as
maml_viz/views/compare.py's compare_task computes it (the reference the page must draw)."""
import glob
import os

from browser import ROOT

from maml_viz.runs.files import load_run
from maml_viz.views import points
from maml_viz.views.adaptation import grid, trajectory


def maml_curve(task: int, k: int, step: int, family: str = "sinusoid"):
    """The bundled MAML run's prediction on the 200-point grid after `step` steps on the task of
    seed `task` with k points (the page's first run's task)."""
    run = load_run(glob.glob(os.path.join(ROOT, "assets", "runs", f"{family}-maml-*"))[0])
    sup = points.support(run, task, k)
    tr = trajectory(run, sup.xs, sup.ys, max(step, 1), x_grid=grid(run, 200), task=sup.task)
    return tr["preds"][step, :, 0]
