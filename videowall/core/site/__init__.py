"""Site and layout files: cameras, zones, screens and wall layouts, loaded and checked."""
