"""The first import of every page but Learn: pages/_shared/boot.py (see why there) and
pages/_shared/figures_warm.py, then torch and every module of the package, imported once per
server and one session at a time, so that no page script imports any of them for the first time
while another session does."""
import importlib
import pkgutil

import pages._shared.boot  # noqa: F401  (first: the light part)
import pages._shared.figures_warm  # noqa: F401  (then: what figures need)
import safetensors.torch  # noqa: F401
import torch  # noqa: F401
import torch.func  # noqa: F401

import maml_viz

for _m in pkgutil.walk_packages(maml_viz.__path__, "maml_viz."):
    if not _m.name.endswith("__main__"):
        importlib.import_module(_m.name)
import pages._shared  # noqa: E402

for _m in pkgutil.iter_modules(pages._shared.__path__, "pages._shared."):
    importlib.import_module(_m.name)            # every page helper (components, sections)
pages._shared.boot.freeze_heap()            # what was just imported: out of every collection
