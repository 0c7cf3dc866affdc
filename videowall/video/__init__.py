"""Live video engine on PyAV: a decoder per stream, in a process per camera (no Qt)."""
