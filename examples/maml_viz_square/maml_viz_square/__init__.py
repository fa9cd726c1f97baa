"""An example maml-viz plugin: square-wave regression tasks (family `square`) and MAML with a
learned step size for each inner step (algorithm `stepmaml`). maml-viz finds them through the
entry points in pyproject.toml; nothing here is imported until maml-viz builds its registries.

Importing this package imports nothing else: the family and the algorithm live in their own
modules, each importing only the part of maml_viz it builds on."""
