"""Linear blend skinning of points: per-bone transforms blended by skinning weights.

For a point with bones i_k and weights w_k, and per-bone transforms T (posed · rest⁻¹, world):
``A = Σ_k w_k T_{i_k}``, ``x' = A x``. Every function accepts leading batch dimensions on the
transforms (frames). Quaternions are wxyz.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch

from core.rotations import rotmat_to_quat

_DENSE_LIMIT = 50_000  # (point, bone) pairs below which differentiable blending uses a dense weight matrix


def blend_rows(indices: torch.Tensor, weights: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Σ_k w_k table[..., i_k, :] → [..., N, C] for indices/weights [N, k] and table [..., K, C]."""
    lead, (count, width) = table.shape[:-2], table.shape[-2:]
    if table.requires_grad and indices.numel() <= _DENSE_LIMIT:
        # gradients for a few thousand points (fitting): one product with the dense [N, K] weights each way is
        # three times cheaper than a gather's backward (an index_put) and embedding_bag's (it sorts every index)
        dense = torch.zeros(len(indices), count, dtype=table.dtype, device=table.device)
        return dense.scatter_add_(1, indices.to(table.device), weights.to(table)) @ table
    flat = table.reshape(-1, count, width).permute(1, 0, 2).reshape(count, -1)  # frames side by side
    out = torch.nn.functional.embedding_bag(indices, flat, per_sample_weights=weights.to(flat), mode="sum")
    return out.reshape(len(indices), -1, width).permute(1, 0, 2).reshape(*lead, len(indices), width)


def blend_transforms(indices: torch.Tensor, weights: torch.Tensor, transforms: torch.Tensor) -> torch.Tensor:
    """Blended 3x4 transforms [..., N, 3, 4] for indices/weights [N, k] and transforms [..., K, 4, 4]."""
    top = transforms[..., :3, :].reshape(*transforms.shape[:-2], 12)
    return blend_rows(indices, weights, top).reshape(*transforms.shape[:-3], len(indices), 3, 4)


def bone_quaternions(transforms: torch.Tensor, parents: Sequence[int]) -> torch.Tensor:
    """Rotation quaternions [..., K, 4] (wxyz) of rigid bone transforms [..., K, 4, 4], each put in
    its parent's hemisphere (parents precede children) so neighbouring bones blend without cancelling."""
    quats = rotmat_to_quat(transforms[..., :3, :3])
    for level in _levels(tuple(parents)):  # a level at a time, roots first
        bones, above = level
        parent = quats[..., above, :]
        q = quats[..., bones, :]
        quats[..., bones, :] = torch.where((q * parent).sum(-1, keepdim=True) < 0, -q, q)
    return quats


@functools.lru_cache(maxsize=8)
def _levels(parents: tuple[int, ...]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(bones, their parents) per depth level below the roots."""
    depth = [0] * len(parents)
    for bone, parent in enumerate(parents):
        depth[bone] = 0 if parent < 0 else depth[parent] + 1
    return [
        (torch.tensor([b for b in range(len(parents)) if depth[b] == d]),
         torch.tensor([parents[b] for b in range(len(parents)) if depth[b] == d]))
        for d in range(1, max(depth) + 1)
    ]


def skin_points(points: torch.Tensor, indices: torch.Tensor, weights: torch.Tensor, transforms: torch.Tensor
                ) -> torch.Tensor:
    """Posed points [..., N, 3] from rest points [N, 3], bones/weights [N, k], transforms [..., K, 4, 4]."""
    blended = blend_transforms(indices, weights, transforms)
    return (blended[..., :3] @ points.to(blended)[..., None])[..., 0] + blended[..., 3]


def strongest_influences(indices: torch.Tensor, weights: torch.Tensor, count: int
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``count`` strongest bones per point of bones/weights [N, k] as ([N, count], [N, count]), weights
    renormalised; rows with fewer than ``count`` bones are padded with weight 0 (repeating the first
    bone), so GPU and glTF skinning always get ``count`` influences."""
    weights, order = weights.topk(min(count, weights.shape[1]), dim=1)
    indices = indices.gather(1, order)
    weights = weights / weights.sum(1, keepdim=True).clamp_min(1e-12)
    if indices.shape[1] < count:
        pad = count - indices.shape[1]
        indices = torch.cat([indices, indices[:, :1].expand(-1, pad)], 1)
        weights = torch.cat([weights, weights.new_zeros(len(weights), pad)], 1)
    return indices, weights
