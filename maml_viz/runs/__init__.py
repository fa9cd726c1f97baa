"""Runs and their numbers: the run store on disk and in memory, the evaluation protocol, budgets,
several seeds of a config. Imports from engine/ and runs/ only.
"""
