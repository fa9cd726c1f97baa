"""Long work for the app and the command line: background jobs (each a child process), seed sweeps
on Ray, the throughput benchmark. Imports from engine/, runs/, views/ and services/.
"""
