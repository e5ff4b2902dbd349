"""Benchmarks behind ``learn2tune bench``: each prints a table, none asserts a time."""
