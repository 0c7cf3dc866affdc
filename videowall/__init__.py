"""videowall: situation display for command halls (package marker; stdlib only)."""

# Kept free of third-party imports: `python3 -m videowall.bootstrap` runs before any
# dependency is installed and imports this module first.
__version__ = "0.1.0"
