"""Helpers shared by the test packages: waiting on conditions, process output, thread checks."""
