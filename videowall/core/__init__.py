"""The domain: configuration and layout models, geometry, situation state (no Qt, PyAV or ZeroMQ)."""
