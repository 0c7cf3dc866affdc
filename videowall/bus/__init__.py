"""Situation bus on ZeroMQ: state server, client and publishers (no Qt)."""
