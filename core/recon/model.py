"""The reconstruction network: body-anchored query points read the photo and predict Gaussians.

LHM's idea sized for a CPU (DESIGN §8). Per query point (canonical body surface, P points shared by
every person) the token is built from

* Fourier features of its canonical position (T-pose, metres),
* the photo's colour and CNN features sampled at its posed projection, and the same at the
  projections of its front/back and left/right partners (so a stripe seen on the front can be
  copied, not averaged, to the back),
* its visibility in the photo and facing term (normal · direction to the camera), the partners' too,
* a learned embedding of its body part (:mod:`core.body.parts`).

Farthest-point anchor tokens (the mean of their points' tokens) and the photo's 8×8 image tokens
go through a transformer; each point reads back its three nearest anchors (inverse-distance
weights) and decodes colour (sigmoid RGB, the unlit albedo), an outward offset (metres, up to
``max_offset`` either way),
and the Gaussian's shape relative to a flat surface disc: log-multipliers of the disc's standard
deviations (tangent, bitangent, normal), a rotation (wxyz) in the point's surface frame and an
opacity logit. Those three are learned only through the render losses (:mod:`core.train.render_loss`).

Shapes: B people, P points, A anchors, S × S photo.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

NUM_PARTS = 16


@dataclass(frozen=True)
class ModelConfig:
    """Network sizes (JSON-serialisable)."""

    image_size: int = 128
    channels: tuple[int, int, int, int] = (16, 32, 64, 96)  # CNN stages, each halving the resolution
    dim: int = 96  # token width
    heads: int = 4
    layers: int = 3
    fourier: int = 6  # frequencies per axis
    part_dim: int = 16
    max_offset: float = 0.05  # metres: the largest outward offset the network can predict

    def __post_init__(self) -> None:
        """Refuse sizes a network cannot have (or that would not fit in memory), with the field named."""
        ranges = {"image_size": (16, 1024), "dim": (1, 2048), "heads": (1, 64), "layers": (0, 64),
                  "fourier": (0, 16), "part_dim": (1, 256)}
        for name, (low, high) in ranges.items():
            _check_int(name, getattr(self, name), low, high)
        if len(self.channels) != 4:
            raise ValueError(f"channels must list 4 CNN stage widths, got {len(self.channels)}")
        for width in self.channels:
            _check_int("channels", width, 1, 1024)
        if not isinstance(self.max_offset, (int, float)) or isinstance(self.max_offset, bool) \
                or not 0.0 < self.max_offset <= 0.5:
            raise ValueError(f"max_offset must be a number of metres in (0, 0.5], got {self.max_offset!r}")
        if self.image_size % 16 or self.dim % self.heads:
            raise ValueError("image_size must be a multiple of 16 and dim a multiple of heads")

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        """From JSON; ValueError (or TypeError) naming the field for anything out of range."""
        if not isinstance(data, dict):
            raise ValueError("the model config must be a JSON object")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "channels" in known:
            if not isinstance(known["channels"], list):
                raise ValueError("channels must be a list of 4 numbers")
            known["channels"] = tuple(known["channels"])
        return cls(**known)


def _check_int(name: str, value, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")


@dataclass
class Prediction:
    """Per-point outputs [B, P, …]."""

    colour: torch.Tensor  # [B, P, 3] in (0, 1)
    offset: torch.Tensor  # [B, P] metres along the normal
    log_scale: torch.Tensor  # [B, P, 3] log-multipliers of the surface disc's σ (tangent, bitangent, normal)
    rotation: torch.Tensor  # [B, P, 4] wxyz, unit, in the point's surface frame
    opacity_logit: torch.Tensor  # [B, P]


def fourier_features(positions: torch.Tensor, frequencies: int) -> torch.Tensor:
    """[..., 3] metres → [..., 6 · frequencies] sines and cosines at 2^k · π (k < frequencies)."""
    scales = (2.0 ** torch.arange(frequencies, dtype=positions.dtype, device=positions.device)) * math.pi
    angles = positions[..., None] * scales  # [..., 3, F]
    return torch.cat([angles.sin(), angles.cos()], -1).flatten(-2)


def _stage(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, stride=2, padding=1), nn.GELU(),
                         nn.Conv2d(outputs, outputs, 3, padding=1), nn.GroupNorm(4, outputs), nn.GELU())


def sample_image(features: torch.Tensor, uv: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear samples [B, P, C] of ``features`` [B, C, h, w] at pixels ``uv`` [B, P, 2] of an
    ``size``² photo (pixel centres at +0.5; outside: zeros)."""
    grid = (uv / size * 2 - 1)[:, :, None]  # [B, P, 1, 2]
    sampled = nn.functional.grid_sample(features, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return sampled[..., 0].transpose(1, 2)


class ReconstructionNet(nn.Module):
    """Photo + body (query points posed and projected) → per-point Gaussian parameters."""

    def __init__(self, config: ModelConfig, neighbours: torch.Tensor, weights: torch.Tensor, mirror: torch.Tensor,
                 opposite: torch.Tensor, parts: torch.Tensor, anchors: int) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        self.register_buffer("neighbours", neighbours.long(), persistent=False)  # [P, 3]
        self.register_buffer("neighbour_weights", weights.float(), persistent=False)  # [P, 3]
        self.register_buffer("mirror", mirror.long(), persistent=False)  # [P] left/right partner
        self.register_buffer("opposite", opposite.long(), persistent=False)  # [P] front/back partner
        self.register_buffer("parts", parts.long(), persistent=False)  # [P]
        self.anchors = anchors
        self.stages = nn.ModuleList([_stage(4, c[0]), _stage(c[0], c[1]), _stage(c[1], c[2]), _stage(c[2], c[3])])
        sampled = 3 + c[1] + c[2]  # pixel colour + stage-2 and stage-3 features
        point_in = 6 * config.fourier + 3 * (sampled + 2) + config.part_dim
        self.part_embedding = nn.Embedding(NUM_PARTS, config.part_dim)
        self.point_mlp = nn.Sequential(nn.Linear(point_in, config.dim), nn.GELU(), nn.Linear(config.dim, config.dim))
        tokens = (config.image_size // 16) ** 2
        self.image_proj = nn.Linear(c[3], config.dim)
        self.image_position = nn.Parameter(torch.zeros(tokens, config.dim))
        self.anchor_type = nn.Parameter(torch.zeros(config.dim))
        layer = nn.TransformerEncoderLayer(config.dim, config.heads, 2 * config.dim, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.decoder = nn.Sequential(nn.Linear(2 * config.dim, config.dim), nn.GELU(), nn.Linear(config.dim, 12))

    def forward(self, image: torch.Tensor, mask: torch.Tensor, canonical: torch.Tensor, uv: torch.Tensor,
                visible: torch.Tensor, facing: torch.Tensor, points: torch.Tensor | None = None) -> Prediction:
        """image [B, 3, S, S] in [0, 1], mask [B, 1, S, S], canonical [B, P, 3] metres, uv [B, P, 2]
        pixels, visible [B, P] in {0, 1}, facing [B, P] in [−1, 1]. ``points`` [p] predicts only
        those query points (training on a random subset per step; anchors then pool that subset)."""
        size = image.shape[-1]
        x = torch.cat([image, mask], 1)
        maps = []
        for stage in self.stages:
            x = stage(x)
            maps.append(x)
        chosen = torch.arange(uv.shape[1], device=uv.device) if points is None else points

        def look(index: torch.Tensor) -> torch.Tensor:  # what the photo says at these points
            at, seen = uv[:, index], visible[:, index, None]
            pixel = torch.cat([sample_image(image, at, size), sample_image(maps[1], at, size),
                               sample_image(maps[2], at, size)], -1) * seen
            return torch.cat([pixel, seen, facing[:, index, None]], -1)

        parts = self.part_embedding(self.parts[chosen]).expand(image.shape[0], -1, -1)
        tokens = self.point_mlp(torch.cat([fourier_features(canonical[:, chosen], self.config.fourier), look(chosen),
                                           look(self.opposite[chosen]), look(self.mirror[chosen]), parts], -1))
        # anchors: the mean of the tokens whose nearest anchor they are
        neighbours, weights = self.neighbours[chosen], self.neighbour_weights[chosen]
        nearest = neighbours[:, 0]
        count = torch.zeros(self.anchors, dtype=tokens.dtype, device=tokens.device).scatter_add(
            0, nearest, torch.ones_like(nearest, dtype=tokens.dtype)).clamp_min(1.0)
        # scatter_add (not index_add_) so the graph exports to ONNX (ScatterElements, reduction "add")
        anchor_tokens = torch.zeros(tokens.shape[0], self.anchors, tokens.shape[2], dtype=tokens.dtype,
                                    device=tokens.device).scatter_add(1, nearest[None, :, None].expand_as(tokens),
                                                                      tokens) / count[:, None]
        image_tokens = self.image_proj(maps[3].flatten(2).transpose(1, 2)) + self.image_position
        fused = self.transformer(torch.cat([anchor_tokens + self.anchor_type, image_tokens], 1))[:, : self.anchors]
        read = (fused[:, neighbours] * weights[..., None]).sum(2)  # [B, p, dim]
        out = self.decoder(torch.cat([tokens, read], -1))
        rotation = nn.functional.normalize(out[..., 7:11] + torch.tensor([1.0, 0, 0, 0], device=out.device), dim=-1)
        return Prediction(colour=torch.sigmoid(out[..., :3]), offset=self.config.max_offset * torch.tanh(out[..., 3]),
                          log_scale=out[..., 4:7], rotation=rotation, opacity_logit=out[..., 11] + 3.0)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
