"""Qt views: wall windows, tiles and panels (the only layer importing PyQt6)."""
