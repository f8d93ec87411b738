"""Simulation tools: synthetic gate clips and a compound simulator with ground truth.

They exist for benches, tests and the demo; the edge agent does not need them to run.
"""
