"""File formats: splats (.ply) and atomic writes."""
