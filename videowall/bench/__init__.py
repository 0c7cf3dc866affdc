"""`videowall bench ...`: benchmarks measured side by side in one run (tooling only)."""
