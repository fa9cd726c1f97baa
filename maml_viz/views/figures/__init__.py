"""Plotly figure builders, one module per kind of chart: pure functions of arrays that import
nothing of the package but their own style and canvas modules.
"""
