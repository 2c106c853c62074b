"""A body shown as splats: flat Gaussians spread over the rest mesh, bound to its skeleton.

Used by the viewer's body mode (``avatarium view --body anny --motion walk``) and by tests of
GPU skinning. Colours mark the dominant bone, so the skinning is visible.
"""

from __future__ import annotations

import math

import torch

from core.avatar.binding import Binding, bind_to_triangles
from core.body.model import BodyModel
from core.body.surface import mesh_area, sample_surface, triangle_frames
from core.gaussians import GaussianCloud, rgb_to_sh0
from core.rotations import rotmat_to_quat

_PALETTE = torch.tensor([
    [0.90, 0.72, 0.60], [0.35, 0.55, 0.85], [0.85, 0.45, 0.35], [0.45, 0.75, 0.45],
    [0.80, 0.70, 0.30], [0.65, 0.45, 0.80], [0.35, 0.75, 0.75], [0.85, 0.55, 0.70],
])


def body_splats(body: BodyModel, shape: torch.Tensor, count: int = 20000, seed: int = 0
                ) -> tuple[GaussianCloud, Binding]:
    """``count`` splats on the rest-pose body of ``shape`` [1, S] and their binding (all bones)."""
    rest = body.rest(shape).vertices[0].detach()
    points, triangles, barycentric = sample_surface(rest, body.faces, count, seed)
    binding = bind_to_triangles(triangles, barycentric, body)
    frame = triangle_frames(rest[body.faces[triangles]])
    spacing = math.sqrt(float(mesh_area(rest, body.faces)) / count)
    scales = torch.tensor([0.6 * spacing, 0.6 * spacing, 0.1 * spacing]).expand(count, 3)
    rgb = _PALETTE[binding.bone_indices[:, 0] % len(_PALETTE)]
    cloud = GaussianCloud(means=points, quats=rotmat_to_quat(frame), log_scales=torch.log(scales),
                          opacity_logits=torch.full((count,), 3.0), sh=rgb_to_sh0(rgb)[:, None, :])
    return cloud, binding
