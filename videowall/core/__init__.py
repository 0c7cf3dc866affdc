"""Plain values under everything: geometry, palette, stream health, paths (no Qt/PyAV/zmq)."""
