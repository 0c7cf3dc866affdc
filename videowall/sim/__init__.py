"""Simulators: the demo city, its feed, cameras and drones, replay of history (tooling)."""
