"""The app's glossary: one list of plain-words definitions that every page shows (the sidebar's
"Glossary" popover) and that the Learn page prints at its bottom, and `linkify`, which turns
each *italic term* of a Markdown text into a link to its definition (its tooltip is the
definition). `unknown_terms` lists italic words with no entry: the Learn page's promise
"words in italics are explained" is checked with it (tests/test_learn.py). Pure: text in, text
out; nothing here is user-derived."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    term: str
    text: str
    also: tuple = ()          # other spellings of the term as italic text (lower case)
    key: str = ""             # the anchor's name when the term has no Latin letters to make it

    @property
    def slug(self) -> str:
        return "g-" + (self.key or re.sub(r"[^a-z0-9]+", "-", self.term.lower()).strip("-"))


GLOSSARY = [
    Entry("Task", "one small problem to learn, here one sine wave (or one goal to reach, one "
                  "set of letters to tell apart). A family is many related tasks.",
          ("tasks", "task family", "family")),
    Entry("Weights", "the numbers inside a model that training changes. The 2-weight model of "
                     "the Learn page has two: the height a and the shift b of its wave.",
          ("weight",)),
    Entry("θ and θ′", "θ (theta): the starting weights that meta-training learns. θ′: the "
                      "weights after adapting θ to one task with a few gradient steps.",
          ("θ", "θ′", "theta", "starting point", "start"), key="theta"),
    Entry("Loss", "one number saying how wrong the model is on some points; training lowers "
                  "it. Here, for waves, the mean squared error.", ("error",)),
    Entry("Mean squared error", "the average of (prediction − truth)² over the points: 0 is "
                                "perfect, and a miss twice as big costs four times as much.",
          ("mse",)),
    Entry("Log scale", "an axis where each step up multiplies the value by 10 (0.01, 0.1, 1, "
                       "10), so that small and large errors both stay readable.", ()),
    Entry("Gradient", "the slope of the loss with respect to every weight: which way (and how "
                      "steeply) the loss goes up. Stepping against it lowers the loss.",
          ("slope", "gradient / slope", "gradients")),
    Entry("SGD", "stochastic gradient descent: repeat a gradient step on a few examples at a "
                 "time.", ("stochastic gradient descent",)),
    Entry("Step size α", "how far one gradient step goes (α, alpha). Too small and nothing "
                         "changes; too big and it overshoots.", ("step size", "α", "learning rate")),
    Entry("Gradient step", "one small change of every weight against the gradient: "
                           "θ′ = θ − α · gradient.", ("gradient steps", "one gradient step")),
    Entry("Adaptation step", "one gradient step on a new task's few examples, starting from θ. "
                             "The charts' step sliders show the network after 0, 1, 2, … of "
                             "them.", ("adaptation steps", "adapting", "adapt", "adaptation")),
    Entry("Support points", "the few examples of a new task the model learns from (K of "
                            "them).", ("support point", "support", "support set")),
    Entry("Query points", "other examples of the same task, used only to check how well it "
                          "learned (and, in meta-training, to score θ′).",
          ("query point", "query", "query set")),
    Entry("K", "how many examples of each task the model sees (K-shot: K examples; per class "
               "for classes).", ("k-shot",)),
    Entry("Meta-training", "training the starting weights θ on many tasks so that a few "
                           "gradient steps on a new task work well.",
          ("meta-learning", "meta-train", "meta-trained")),
    Entry("Meta-iteration", "one round of meta-training: pick a few tasks, adapt to each, move "
                            "θ.", ("meta-iterations",)),
    Entry("Inner loop", "the gradient steps on one task's support points (θ → θ′).",
          ("inner step", "inner steps")),
    Entry("Outer loop", "the move of θ itself, once per meta-iteration, from how the adapted "
                        "θ′ did on the query points.", ("outer step",)),
    Entry("Meta-gradient", "the gradient of the after-adapting error with respect to the "
                           "start θ: which way to move θ so that the error after the steps "
                           "goes down. MAML's exact one needs second derivatives.",
          ("meta-gradients",)),
    Entry("Second derivatives", "how the slope itself changes when the weights move; MAML "
                                "needs them to see how the step changes with θ.",
          ("second derivative", "second-order")),
    Entry("Validation tasks", "tasks kept aside during training to choose settings (such as "
                              "the step size) fairly; never used to learn θ.",
          ("validation",)),
    Entry("Held-out tasks", "new tasks never seen in training, used only for the final "
                            "scores.", ("held-out task", "held-out", "new task", "new tasks")),
    Entry("Seed", "the number that starts a random-number generator: the same seed gives the "
                  "same random tasks and the same starting weights.", ("seeds",)),
    Entry("95% interval", "a range around an average that holds its true value with 95% "
                          "probability (here ± 1.96 × spread / √number of tasks).",
          ("95% ci", "confidence interval", "ci")),
    Entry("Policy", "in reinforcement learning, the network that picks the next move from "
                    "what the agent sees.", ()),
    Entry("Rollout", "one attempt of the policy at a task, move after move, from start to end.",
          ("rollouts",)),
    Entry("Trajectory", "the path an agent's rollout takes (Navigation), or the path of the "
                        "weights over the steps.", ("trajectories", "trail", "trails")),
    Entry("Return", "in reinforcement learning, the total reward of one rollout (Navigation: "
                    "minus the distances to the goal, so closer to 0 is better).", ()),
    Entry("N-way K-shot", "a classification task with N classes and K examples of each "
                          "(5-way 1-shot: five letters, one drawing of each).", ()),
    Entry("Pretrained", "the usual alternative: one network trained on the data of all tasks "
                        "at once, then given the same gradient steps on a new task.",
          ("pretraining", "pretrain")),
    Entry("Random init", "a network with random starting weights and no training at all, given "
                         "the same steps: what adaptation alone does (it can beat a start "
                         "trained for something else, and its error can even rise).", ("random initialisation",)),
    Entry("Oracle", "a baseline that is told the task (Navigation: the goal) and never needs to "
                    "adapt: the ceiling.", ()),
    Entry("MAML", "Model-Agnostic Meta-Learning (Finn, Abbeel and Levine, 2017): learns θ by "
                  "following the exact meta-gradient, second derivatives included.",
          ("model-agnostic meta-learning",)),
    Entry("FOMAML", "First-Order MAML: MAML without the second derivatives; it moves θ along "
                    "the query points' gradient measured at θ′.", ("first-order maml",)),
    Entry("Reptile", "Reptile (Nichol, Achiam and Schulman, 2018): takes several plain "
                     "gradient steps on each task and moves θ toward where they end (a "
                     "fraction ε of the way to their average); no query gradient, no second "
                     "derivatives.", ()),
    Entry("ANIL", "Almost No Inner Loop: MAML that adapts only the last layer (the head) to "
                  "each task.", ("almost no inner loop",)),
    Entry("Meta-SGD", "MAML that also learns a step size for every weight.", ()),
]
BY_NAME = {}
for _e in GLOSSARY:
    for _name in (_e.term.lower(), *_e.also):
        BY_NAME.setdefault(_name.lower(), _e)

# *term*, not **bold**, not an already linked [*term*](...) (linkify is idempotent)
ITALIC = re.compile(r"(?<![*\w\\\[])\*(?![*\s])([^*\n]+?)(?<!\s)\*(?![*\w\]])")


def lookup(term: str) -> Entry | None:
    """The entry for a term as written (any case, a listed spelling, or a plural 's')."""
    t = term.strip().lower()
    return BY_NAME.get(t) or (BY_NAME.get(t[:-1]) if t.endswith("s") else None)


def unknown_terms(markdown: str) -> list:
    """Italic words in the text that have no glossary entry."""
    return [m.group(1) for m in ITALIC.finditer(markdown) if lookup(m.group(1)) is None]


def linkify(markdown: str) -> str:
    """Every *term* with an entry becomes [*term*](#slug "definition"): a click jumps to the
    Learn page's glossary, a hover shows the definition."""
    def sub(m):
        e = lookup(m.group(1))
        if e is None:
            return m.group(0)
        # a Markdown link title may hold no parentheses or quotes (Streamlit's parser stops
        # there and prints the rest of the paragraph as raw text)
        tip = re.sub(r"\s*\(([^)]*)\)", r", \1,", f"{e.term}: {e.text}")
        tip = re.sub(r'[()"]', "", tip).replace(",.", ".").replace(",,", ",").replace(",:", ":")
        return f'[*{m.group(1)}*](#{e.slug} "{tip}")'
    return ITALIC.sub(sub, markdown)


CSS = """.maviz-glossary { columns: 24rem 3; column-gap: 2.5rem; margin: 0; }
.maviz-glossary > div { break-inside: avoid; margin: 0 0 0.7rem 0; }
.maviz-glossary dt { font-weight: 600; }
.maviz-glossary dd { margin: 0; }"""


def as_html(entries=GLOSSARY) -> str:
    """The glossary as an HTML definition list in columns, an anchor per entry (escaped)."""
    rows = "".join(f'<div id="{e.slug}"><dt>{html.escape(e.term)}</dt>'
                   f"<dd>{html.escape(e.text)}</dd></div>" for e in entries)
    return f'<style>{CSS}</style><dl class="maviz-glossary">{rows}</dl>'


def as_markdown(entries=GLOSSARY) -> str:
    """The glossary as a Markdown list (the sidebar's popover)."""
    return "\n".join(f"- **{e.term}**: {e.text}" for e in entries)
