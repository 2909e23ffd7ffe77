"""The Python side of the run command (`scripts/run`); part of the repository, not installed."""
