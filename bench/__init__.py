"""Benchmarks: each prints its figures and, where a peer exists, the ratio measured in the same run."""
