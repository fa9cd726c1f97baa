"""The engine: configs, task families, models, THE inner loop, meta-gradients, algorithms, the
trainer. Imports nothing of the package outside engine/ (the lowest floor).
"""
