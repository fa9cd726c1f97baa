"""ANIL (Raghu et al. 2020), "almost no inner loop": MAML whose inner loop adapts only the last
layer; the body is learned by the outer loop alone (second order through the head)."""
from __future__ import annotations

from .maml import MAML


class ANIL(MAML):
    name = "anil"
    label = "ANIL"
    description = ("MAML that adapts only the last layer to each task; the rest of the network "
                   "is a shared feature extractor learned across tasks.")

    def adapt_spec(self, params, cfg, model):
        return self.model_params(params), cfg.inner_lr, model.head_keys()
