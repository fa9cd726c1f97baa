"""Choose the Navigation page's default goal from the bundled runs and store it
(assets/navigation_story.json): among a grid of candidate goals, the one where MAML's return
beats the pretrained policy's by the widest margin at every step shown, both curves on the chart,
with the page's own rollouts (seed 0, 20 tries a step). Re-run after retraining either run;
tests/test_navigation_page.py checks that the stored goal still tells the story.

Run:  python benchmarks/navigation_goal.py
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)


def main():
    import torch
    torch.set_num_threads(1)
    from maml_viz.engine.registry import make_config
    from maml_viz.runs.store import RunStore
    from maml_viz.views import navigation as nav

    store = RunStore([os.path.join(ROOT, "assets", "runs")], "cpu")
    meta, base = (store.get(make_config(family="navigation", algo=a)) for a in ("maml", "pretrained"))
    story = nav.choose_story_goal(meta, base, nav.candidate_goals(meta.family),
                                  steps=meta.family.eval_steps)
    nav.STORY.write_text(json.dumps(story, indent=1) + "\n")
    print(json.dumps(story))


if __name__ == "__main__":
    main()
