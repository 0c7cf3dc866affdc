"""MISB ST 0601 drone metadata: parsing KLV, sensor footprints, per-source sensor state."""
