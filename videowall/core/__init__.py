"""The domain: config and layout models, geometry, situation state (no Qt, PyAV, ZeroMQ)."""
