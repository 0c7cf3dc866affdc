"""Command-line interface and composition root."""
