"""The package's structure, checked from its source (ARCHITECTURE.md draws the same picture).

- Imports flow one way: every import in `maml_viz/` (those inside functions included) goes to a
  module of the same or a lower layer, and no set of modules imports itself in a cycle.
- Behaviour that depends on the kind of task family lives in the family classes: nowhere else
  compares `.kind` (dispatch on the family's type instead).
"""
import ast
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, "maml_viz")

# lowest first; a module may import only from its own layer or those before it
LAYERS = [
    ["__init__", "config", "cancel"],
    ["nets", "optim", "conv_ops"],
    ["tasks"],
    ["adapt", "metagrad"],
    ["algorithms"],
    ["registry"],
    ["rl", "stepper"],
    ["train", "validation"],
    ["store"],
    ["evaluate"],
    ["figures"],
    ["explore", "uploads", "seeds", "handwriting"],
    ["learn"],
    ["jobs", "budget", "bench", "sweep"],
    ["cli"],
    ["__main__"],
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def modules():
    """{dotted name relative to maml_viz: path} for every .py file of the package."""
    out = {}
    for dirpath, _, files in os.walk(PKG):
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(dirpath, f), PKG)[:-3].split(os.sep)
                if rel[-1] == "__init__" and len(rel) > 1:
                    rel = rel[:-1]
                out[".".join(rel)] = os.path.join(dirpath, f)
    return out


def layer_of(module: str) -> int:
    top = module.split(".")[0]
    assert top in LAYER, (f"maml_viz/{module.replace('.', '/')} is in no layer: add it to LAYERS "
                          f"here and to ARCHITECTURE.md")
    return LAYER[top]


def imports(module: str, path: str, known) -> set:
    """Every module of ours that `module` imports, anywhere in the file."""
    package = module.split(".") if path.endswith("__init__.py") else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(open(path).read(), path)):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            if node.level:
                prefix = "maml_viz." + prefix if prefix else "maml_viz"
            targets = [f"{prefix}.{a.name}" for a in node.names]   # a name or a submodule
        for t in targets:
            if t == "maml_viz" or not t.startswith("maml_viz."):
                continue
            name = t[len("maml_viz."):]
            while name and name not in known:          # `from .tasks import X`: the module tasks
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def graph():
    mods = modules()
    return {m: imports(m, p, mods) for m, p in mods.items()}


def test_every_import_goes_down_the_layers():
    bad = [f"{m} (layer {layer_of(m)}) imports {d} (layer {layer_of(d)})"
           for m, deps in graph().items() for d in deps if layer_of(d) > layer_of(m)]
    assert not bad, "imports that go up the layer order:\n" + "\n".join(sorted(bad))


def test_no_import_cycles():
    g = graph()
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(g.get(m, ())):
            if state.get(d) == "open":
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for m in sorted(g):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_imports_inside_functions_and_relative_levels(tmp_path):
    # the checker itself must not be blind: a function-level upward import is found
    src = "def f():\n    from ..train import Trainer\n    from . import base\n"
    p = tmp_path / "x.py"
    p.write_text(src)
    known = {"train", "tasks", "tasks.base", "tasks.x"}
    assert imports("tasks.x", str(p), known) == {"train", "tasks.base"}


def test_no_branching_on_the_kind_of_family_outside_the_family_classes():
    files = [os.path.join(ROOT, "app.py")]
    for top in (PKG, os.path.join(ROOT, "pages")):
        for dirpath, _, names in os.walk(top):
            if os.path.join("maml_viz", "tasks") in dirpath:
                continue
            files += [os.path.join(dirpath, n) for n in names if n.endswith(".py")]
    # `.kind ==`, `isinstance(f, RLFamily)`, and in pages `metric == "accuracy"`: all ask which
    # kind a family is (figures.py may switch on its own `metric` argument: a drawing option)
    kind = re.compile(r"\.kind\b|\bkind\s*(==|!=|\bin\b)|isinstance\([^)]*Family\b")
    page_metric = re.compile(r"\bmetric\s*(==|!=|\bin\b)")
    bad = []
    for f in files:
        is_page = not f.startswith(PKG)
        for i, line in enumerate(open(f), 1):
            if line.lstrip().startswith("#"):
                continue
            if kind.search(line) or (is_page and page_metric.search(line)):
                bad.append(f"{os.path.relpath(f, ROOT)}:{i}: {line.strip()}")
    assert not bad, "branch on the family's type instead:\n" + "\n".join(bad)


def test_pages_are_thin():
    pages = [os.path.join(ROOT, "app.py")] + [
        os.path.join(ROOT, "pages", n) for n in os.listdir(os.path.join(ROOT, "pages"))
        if n.endswith(".py")]
    long = {os.path.relpath(p, ROOT): n for p in pages if (n := len(open(p).readlines())) > 150}
    assert not long, f"pages over 150 lines (move the data work into maml_viz/): {long}"
    backend = [os.path.join(d, n) for d, _, ns in os.walk(PKG) for n in ns if n.endswith(".py")]
    st = [os.path.relpath(p, ROOT) for p in backend if re.search(r"^\s*(import|from) streamlit",
                                                                 open(p).read(), re.M)]
    assert not st, f"the backend must know nothing of Streamlit: {st}"


def test_architecture_doc_names_every_layer():
    doc = open(os.path.join(ROOT, "ARCHITECTURE.md")).read()
    missing = [n for names in LAYERS for n in names if n not in ("__init__", "__main__")
               and n not in doc]
    assert not missing, f"ARCHITECTURE.md does not mention: {missing}"
