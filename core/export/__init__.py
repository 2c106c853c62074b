"""Exports that leave the app: body parameters and meshes (3DGS .ply lives in core.io.ply, the bundle in
core.persist.bundle). Every writer is atomic."""
