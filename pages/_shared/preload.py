"""The first import of every page but Learn: pages/_shared/boot.py (see why there), then torch
and every module of the package, imported once per server and one session at a time, so that no
page script imports any of them for the first time while another session does."""
import importlib
import pkgutil

import pages._shared.boot  # noqa: F401  (first: the light part)
import safetensors.torch  # noqa: F401
import torch  # noqa: F401
import torch.func  # noqa: F401

import maml_viz

for _m in pkgutil.walk_packages(maml_viz.__path__, "maml_viz."):
    if not _m.name.endswith("__main__"):
        importlib.import_module(_m.name)
import pages._shared.adapt_component  # noqa: E402,F401
import pages._shared.compare_ui  # noqa: E402,F401
import pages._shared.drawing_pad  # noqa: E402,F401
import pages._shared.goal_click  # noqa: E402,F401
import pages._shared.paper_ui  # noqa: E402,F401
import pages._shared.playground_server  # noqa: E402,F401
import pages._shared.runs_ui  # noqa: E402,F401
