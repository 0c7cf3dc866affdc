"""Live video engine on PyAV: one decode thread per stream, latest frame wins (no Qt)."""
