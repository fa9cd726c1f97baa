"""Make the plugin and maml_viz importable when these tests run from a maml-viz checkout
without the plugin installed (pytest from the repository root, or from this folder)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN = os.path.dirname(HERE)
CHECKOUT = os.path.dirname(os.path.dirname(PLUGIN))
for path in (CHECKOUT, PLUGIN):
    if os.path.isdir(path) and path not in sys.path:
        sys.path.append(path)
