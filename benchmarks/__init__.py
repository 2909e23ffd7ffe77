"""Benchmarks: speed shown as ratios against a baseline measured in the same run."""
