"""What the pages show, as data and as Plotly figures (pure functions): trajectories, points,
ranges, labels, links, the Learn and Handwriting data. Imports from engine/, runs/ and views/.
"""
