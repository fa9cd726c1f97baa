import contextlib
import os
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
torch.set_num_threads(1)


@pytest.fixture
def tmp_runs(tmp_path):
    return tmp_path / "runs"


@contextlib.contextmanager
def app_store(root, monkeypatch):
    """Point the app (AppTest pages) at the runs store `root`: the cached backend is rebuilt
    around it, and its job queue shut down afterwards."""
    import pages._shared.ui as ui_mod
    monkeypatch.setenv("MAML_VIZ_RUNS", str(root))
    monkeypatch.setattr(ui_mod, "RUNS", root)
    ui_mod.backend.clear()
    try:
        yield root
    finally:
        ui_mod.backend().jobs.shutdown()
        monkeypatch.undo()
        ui_mod.backend.clear()


# ----------------------------------------------------------------------------- browser tests
@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module (tests/browser.py)."""
    from browser import browser
    with browser() as b:
        yield b


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """One app server per test module, on an empty user store (the bundled runs only)."""
    from browser import server
    with server(tmp_path_factory.mktemp("runs")) as (url, _):
        yield url


def pytest_configure(config):
    config.addinivalue_line("markers", "live: a Navigation page test of the plane computed in "
                                       "the browser (the others draw the server's plane)")
