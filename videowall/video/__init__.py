"""Live video engine on PyAV: a decoder per stream, in threads or decode processes (no Qt)."""
