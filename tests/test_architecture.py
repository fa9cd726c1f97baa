"""The package's structure, checked from its source (ARCHITECTURE.md draws the same picture).

- Folders are floors: engine/ < runs/ < views/ < services/ < the top (cli.py, __main__.py). A
  module imports only from its own folder and the folders below it.
- Inside the floors, modules are layered too: every import in `maml_viz/` (those inside
  functions included) goes to a module of the same or a lower layer, and no set of modules
  imports itself in a cycle. The figure builders (views/figures/) import nothing of the package
  outside views/figures/.
- Behaviour that depends on the kind of task family lives in the family classes: nowhere else
  compares `.kind` (dispatch on the family's type instead).
"""
import ast
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, "maml_viz")

# the floors, lowest first; "" is the top of the package (cli.py, __main__.py, __init__.py)
FOLDERS = ["engine", "runs", "views", "services", ""]

# lowest first; a module may import only from its own layer or those before it. Entries are
# dotted paths relative to maml_viz; a module belongs to the longest entry that prefixes it
# (views.figures holds every figure module but style and canvas).
LAYERS = [
    ["__init__", "engine", "engine.config", "engine.cancel", "engine.plugins", "engine.malloc"],
    ["engine.nets", "engine.optim", "engine.conv_ops"],
    ["engine.tasks"],
    ["engine.adapt", "engine.metagrad", "engine.stepper"],
    ["engine.algorithms"],
    ["engine.registry"],
    ["engine.rl"],
    ["engine.validation"],
    ["engine.signals"],
    ["engine.train"],
    ["runs", "runs.scores", "runs.stats", "runs.paper", "runs.tables"],
    ["runs.files"],
    ["runs.saving"],
    ["runs.store", "runs.claims"],
    ["runs.evaluate"],
    ["runs.seeds", "runs.budget", "runs.aggregate"],
    ["runs.summary"],
    ["views", "views.figures.colors", "views.figures.look", "views.figures.svg",
     "views.figures.style", "views.text"],
    ["views.figures.canvas"],
    ["views.figures"],
    ["views.uploads", "views.links", "views.glossary"],
    ["views.adaptation"],
    ["views.points", "views.handwriting", "views.training", "views.browser", "views.diagnostics",
     "views.learn_base", "views.compare_notes", "views.run_picker", "views.formula",
     "views.compare_stats"],
    ["views.playground", "views.compare", "views.navigation", "views.inside"],
    ["views.learn_race"],
    ["views.learn_text"],
    ["views.learn"],
    ["services", "services.child", "services.memo", "services.eval_child", "services.interrupted",
     "services.preflight"],
    ["services.jobs", "services.bench", "services.evals"],
    ["services.sweep"],
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


def entry_of(module: str) -> str:
    """The LAYERS entry a module belongs to: the longest one that prefixes it."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYER:
            return ".".join(parts[:n])
    raise AssertionError(f"maml_viz/{module.replace('.', '/')} is in no layer: add it to LAYERS "
                         f"here and to ARCHITECTURE.md")


def layer_of(module: str) -> int:
    return LAYER[entry_of(module)]


def folder_of(module: str) -> str:
    top = module.split(".")[0]
    return top if top in FOLDERS else ""


def floor(module: str) -> str:
    return f"{folder_of(module)}/" if folder_of(module) else "the top of the package"


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


def test_every_folder_imports_only_from_itself_and_the_folders_below():
    bad = []
    for m, deps in graph().items():
        for d in deps:
            if FOLDERS.index(folder_of(d)) > FOLDERS.index(folder_of(m)):
                allowed = ", ".join(f"{f}/" for f in FOLDERS[:FOLDERS.index(folder_of(m)) + 1]
                                    if f)
                bad.append(f"maml_viz.{m} imports maml_viz.{d}: {floor(m)} may import only from "
                           f"{allowed}")
    assert not bad, "imports that go up a floor:\n" + "\n".join(sorted(bad))


def test_every_import_goes_down_the_layers():
    bad = [f"maml_viz.{m} (layer {layer_of(m)}, {entry_of(m)}) imports maml_viz.{d} "
           f"(layer {layer_of(d)}, {entry_of(d)})"
           for m, deps in graph().items() for d in deps if layer_of(d) > layer_of(m)]
    assert not bad, "imports that go up the layer order:\n" + "\n".join(sorted(bad))


def test_figure_builders_import_nothing_of_the_package_but_each_other():
    bad = [f"maml_viz.{m} imports maml_viz.{d}" for m, deps in graph().items()
           if m.startswith("views.figures") for d in deps if not d.startswith("views.figures")]
    assert not bad, "figure builders must be pure:\n" + "\n".join(sorted(bad))


def test_the_checker_names_the_import_that_goes_up_a_floor():
    # the folder rule itself must not be blind: an upward import is found and named
    assert FOLDERS.index(folder_of("services.jobs")) > FOLDERS.index(folder_of("engine.train"))
    assert folder_of("cli") == "" and FOLDERS.index("") == len(FOLDERS) - 1
    assert entry_of("views.figures.curves") == "views.figures"
    assert entry_of("engine.tasks.omniglot") == "engine.tasks"


def test_no_module_is_too_big_to_know():
    big = {os.path.relpath(os.path.join(d, n), ROOT): k for d, _, ns in os.walk(PKG) for n in ns
           if n.endswith(".py") and (k := len(open(os.path.join(d, n)).readlines())) > 600}
    assert not big, f"modules over 600 lines (split them by concern): {big}"


def test_every_folder_says_what_lives_there_and_what_it_may_import():
    for f in FOLDERS[:-1]:
        doc = ast.get_docstring(ast.parse(open(os.path.join(PKG, f, "__init__.py")).read()))
        assert doc and "import" in doc.lower(), f"maml_viz/{f}/__init__.py needs its two lines"


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
            if os.path.join("maml_viz", "engine", "tasks") in dirpath:
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
               and n.split(".")[-1] not in doc]
    assert not missing, f"ARCHITECTURE.md does not mention: {missing}"
