"""The Export menu: one action per format, each asking for a file name and running as a job."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportKind:
    """One Export menu entry: ``fmt`` for :func:`app.tasks.export_job`, the default file name suffix
    (after the avatar's name; empty for a folder) and the file dialog's filter."""

    label: str
    fmt: str
    suffix: str
    filter: str


EXPORTS: tuple[ExportKind, ...] = (
    ExportKind("Avatar Bundle (.avatar)…", "avatar", ".avatar", "Avatars (*.avatar)"),
    ExportKind("Gaussian Splats, T-pose (.ply)…", "ply", ".ply", "3D Gaussian splats (*.ply)"),
    ExportKind("Gaussian Splats, Current Pose (.ply)…", "posed", "_posed.ply", "3D Gaussian splats (*.ply)"),
    ExportKind("Gaussian Splats, T-pose (glTF .glb)…", "splats", "_splats.glb",
               "glTF binary with KHR_gaussian_splatting (*.glb)"),
    ExportKind("Gaussian Splats, Current Pose (glTF .glb)…", "posed_splats", "_posed_splats.glb",
               "glTF binary with KHR_gaussian_splatting (*.glb)"),
    ExportKind("Compressed Splats, T-pose (.spz)…", "spz", ".spz", "Compressed splats (*.spz)"),
    ExportKind("Compressed Splats, Current Pose (.spz)…", "posed_spz", "_posed.spz", "Compressed splats (*.spz)"),
    ExportKind("Splat Sequence of the Motion (folder of .ply)…", "sequence", "", ""),
    ExportKind("Body Fit (.json)…", "fit", "_fit.json", "Body fits (*.json)"),
    ExportKind("Body Parameters, SMPL-X style (.npz)…", "params", "_body.npz", "NumPy archives (*.npz)"),
    ExportKind("Coloured Body Mesh (.obj)…", "mesh", "_body.obj", "Wavefront OBJ (*.obj)"),
    ExportKind("Rigged Body for Blender (.glb)…", "glb", "_body.glb", "glTF binary (*.glb)"),
    ExportKind("Rigged Body for Game Engines, Humanoid T-pose (.glb)…", "humanoid", "_humanoid.glb",
               "glTF binary (*.glb)"),
    ExportKind("Motion for Animation Tools (.bvh)…", "bvh", "_motion.bvh", "Biovision Hierarchy (*.bvh)"),
    ExportKind("Preview Image (.png)…", "preview", "_preview.png", "PNG images (*.png)"),
    ExportKind("Web Player, Plays Offline in a Browser (.html)…", "html", ".html", "Web pages (*.html)"),
    ExportKind("Turntable Video (.mp4, .gif)…", "turntable", "_turntable.mp4", "Videos (*.mp4 *.gif)"),
    ExportKind("Animation Video (.mp4, .gif)…", "animation", "_animation.mp4", "Videos (*.mp4 *.gif)"),
)


@dataclass(frozen=True)
class VideoOptions:
    """Turntable and animation videos: image side (pixels), turntable frames, frames per second."""

    size: int = 512
    turntable_frames: int = 72
    fps: float = 24.0


KINDS = {kind.fmt: kind for kind in EXPORTS}
#: Formats that need the body fit (opened .ply files and fit-less bundles have none).
NEEDS_FIT = ("fit", "params", "mesh")
