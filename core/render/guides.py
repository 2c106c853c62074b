"""Geometry of the viewport's guides, as vertex arrays ready to draw (world frame, metres, Y up):
a floor grid, the skeleton as line segments, and the body mesh with smooth vertex normals."""

from __future__ import annotations

import numpy as np

from core.body.joints import PARENTS

#: Joints drawn as the skeleton: pelvis … wrists (fingers, jaw and eyes are too small to read).
SKELETON_JOINTS = 22


def floor_grid(center: np.ndarray, floor_y: float, half_extent: float = 1.5, spacing: float = 0.25) -> np.ndarray:
    """Line segments [L, 2, 3] of a square grid on the plane y = ``floor_y``, centred under
    ``center`` [3] (its x, z), ``half_extent`` metres each way, lines every ``spacing`` metres."""
    steps = int(round(half_extent / spacing))
    offsets = np.arange(-steps, steps + 1) * spacing
    cx, cz = float(center[0]), float(center[2])
    segments = []
    for offset in offsets:
        segments.append([[cx + offset, floor_y, cz - half_extent], [cx + offset, floor_y, cz + half_extent]])
        segments.append([[cx - half_extent, floor_y, cz + offset], [cx + half_extent, floor_y, cz + offset]])
    return np.asarray(segments, dtype=np.float32)


def skeleton_segments(joints: np.ndarray, count: int = SKELETON_JOINTS) -> np.ndarray:
    """Bones [count − 1, 2, 3] from each of the first ``count`` vocabulary joints (``joints`` [55, 3],
    posed, world) to its parent."""
    joints = np.asarray(joints, dtype=np.float32)
    children = np.arange(1, count)
    return np.stack([joints[children], joints[[PARENTS[c] for c in children]]], axis=1)


