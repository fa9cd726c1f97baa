"""Issue 26, item 9: eight users arriving on a just-started server never see an import error
("partially initialized module 'pandas' has no attribute 'Series'": two sessions' scripts
importing the same packages for the first time at once). Every page imports one module first
(pages/_shared/boot.py for Learn, pages/_shared/preload.py for the others), which imports what
the pages need one session at a time; after it, running the pages imports none of those
packages for the first time. Checked in fresh interpreters (deterministic: no race is staged;
benchmarks/soak.py sends eight users at a cold server)."""
import ast
import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["app.py"] + sorted(f"pages/{f}" for f in os.listdir(os.path.join(ROOT, "pages"))
                            if f.endswith(".py"))
# packages whose first import in a page script could race with another session's
WATCHED = {"maml_viz", "torch", "pandas", "numpy", "plotly", "_plotly_utils", "pyarrow",
           "safetensors", "PIL", "narwhals", "orjson", "pages"}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_imports_the_shared_first_import_before_anything(page):
    tree = ast.parse(open(os.path.join(ROOT, page)).read())
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(
        getattr(n, "value", None), ast.Constant))]
    first = body[0]
    want = "pages._shared.boot" if page == "app.py" else "pages._shared.preload"
    assert isinstance(first, ast.Import) and first.names[0].name == want, \
        f"{page}: the first statement must be `import {want}`"


CHECK = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, {root!r})
    import {first}
    before = set(sys.modules)
    from streamlit.testing.v1 import AppTest
    before |= set(sys.modules)
    for page in {pages!r}:
        at = AppTest.from_file(os.path.join({root!r}, "app.py"), default_timeout=600)
        if page != "app.py":
            at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        if page == "app.py":              # the answers reveal the hands-on chart (a component)
            for r in at.radio:
                r.set_value(r.options[1])
            at.run()
            assert not at.exception, [e.value for e in at.exception]
    print(json.dumps(sorted(set(sys.modules) - before)))
""")


@pytest.mark.parametrize("first,pages", [
    ("pages._shared.boot", ["app.py"]),
    ("pages._shared.preload", [p for p in PAGES if p != "app.py"])])
def test_after_the_first_import_no_page_imports_those_packages_first(tmp_path, first, pages):
    out = subprocess.run([sys.executable, "-c", CHECK.format(root=ROOT, first=first, pages=pages)],
                         cwd=ROOT, capture_output=True, text=True, timeout=900,
                         env=dict(os.environ, MAML_VIZ_RUNS=str(tmp_path / "runs")))
    assert out.returncode == 0, out.stderr[-3000:]
    new = json.loads(out.stdout.strip().splitlines()[-1])
    late = [m for m in new if m.split(".")[0] in WATCHED]
    if first == "pages._shared.boot":   # the Learn page's hands-on chart imports figures_warm
        warm = subprocess.run(                   # (one session at a time): what that brings
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {ROOT!r}); import json, "
             "pages._shared.boot; b = set(sys.modules); import pages._shared.figures_warm; "
             "print(json.dumps(sorted(set(sys.modules) - b)))"], cwd=ROOT, capture_output=True,
            text=True, timeout=300, env=dict(os.environ, MAML_VIZ_RUNS=str(tmp_path / "runs")))
        assert "pages._shared.figures_warm" in late
        late = sorted(set(late) - set(json.loads(warm.stdout.strip().splitlines()[-1])))
    assert not late, f"imported for the first time by a page script: {late[:20]}"
    if first == "pages._shared.boot":           # and the Learn page still never loads torch
        assert "torch" not in new


@pytest.mark.parametrize("first", ["pages._shared.boot", "pages._shared.preload"])
def test_the_first_import_leaves_the_imported_modules_out_of_later_collections(tmp_path, first):
    """Streamlit collects every generation after each script and fragment run
    (runner.postScriptGC), holding the interpreter lock: over the imported modules' objects
    that took about 110 ms per run. After the first import they are frozen (gc.freeze), so a
    full collection looks at a small fraction of the live objects."""
    code = (f"import sys, gc, json; sys.path.insert(0, {ROOT!r}); import {first}; "
            "print(json.dumps([gc.get_freeze_count(), len(gc.get_objects())]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env=dict(os.environ, MAML_VIZ_RUNS=str(tmp_path / "runs")))
    assert out.returncode == 0, out.stderr[-3000:]
    frozen, tracked = json.loads(out.stdout.strip().splitlines()[-1])
    assert frozen > 20 * max(tracked, 1), (frozen, tracked)
