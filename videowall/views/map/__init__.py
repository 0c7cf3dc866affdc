"""Layers of the live city map tile, one small module per layer."""
