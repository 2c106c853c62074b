"""3D Gaussian clouds: the splat representation shared by every stage.

Conventions (the 3DGS ``.ply`` conventions, so files round-trip without conversion):

- ``means``      [N, 3]  positions in metres, world frame (right-handed, Y up).
- ``quats``      [N, 4]  rotations as quaternions in **wxyz** order (not necessarily unit;
  :meth:`GaussianCloud.rotations` normalises).
- ``log_scales`` [N, 3]  natural log of the standard deviations along the local axes, metres.
- ``opacity_logits`` [N] logit of the opacity in (0, 1).
- ``sh``         [N, K, 3] real spherical-harmonics coefficients, K = (degree + 1)², degree 0–3;
  colour = 0.5 + Σ_k SH_k(dir) · sh[:, k] (the INRIA convention, ``SH_C0 = 0.28209479``).

Activations (exp, sigmoid, normalise, SH evaluation) live here and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch

from core.rotations import quat_multiply, quat_to_rotmat, rotmat_to_quat

SH_C0 = 0.28209479177387814
_SH_C1 = 0.4886025119029199
_SH_C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792,
          0.5462742152960396)
_SH_C3 = (-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154,
          -0.4570457994644658, 1.445305721320277, -0.5900435899266435)

#: Number of SH coefficients per colour channel for each supported degree.
SH_COEFFS = {0: 1, 1: 4, 2: 9, 3: 16}


class InvalidGaussiansError(ValueError):
    """Raised when arrays do not describe a valid Gaussian cloud (shape, dtype or NaN/Inf)."""


def sh_degree_for(num_coeffs: int) -> int:
    """SH degree for ``num_coeffs`` coefficients per channel (1, 4, 9 or 16)."""
    for degree, count in SH_COEFFS.items():
        if count == num_coeffs:
            return degree
    raise InvalidGaussiansError(
        f"{num_coeffs} SH coefficients per channel is not a valid count (expected 1, 4, 9 or 16)"
    )


def rgb_to_sh0(rgb: torch.Tensor) -> torch.Tensor:
    """Degree-0 SH coefficient that displays as ``rgb`` (any shape, values in [0, 1])."""
    return (rgb - 0.5) / SH_C0


def eval_sh(sh: torch.Tensor, dirs: torch.Tensor) -> torch.Tensor:
    """Evaluate real SH colours (INRIA convention, + 0.5 offset, no clamping).

    sh:   [..., K, 3] coefficients, K in {1, 4, 9, 16}.
    dirs: [..., 3] unit viewing directions (camera centre → Gaussian), ignored for K = 1.
    Returns [..., 3] RGB.
    """
    k = sh.shape[-2]
    result = SH_C0 * sh[..., 0, :]
    if k > 1:
        x, y, z = (dirs[..., i : i + 1] for i in range(3))
        result = result - _SH_C1 * y * sh[..., 1, :] + _SH_C1 * z * sh[..., 2, :] - _SH_C1 * x * sh[..., 3, :]
        if k > 4:
            xx, yy, zz = x * x, y * y, z * z
            xy, yz, xz = x * y, y * z, x * z
            result = (result + _SH_C2[0] * xy * sh[..., 4, :] + _SH_C2[1] * yz * sh[..., 5, :]
                      + _SH_C2[2] * (2.0 * zz - xx - yy) * sh[..., 6, :]
                      + _SH_C2[3] * xz * sh[..., 7, :] + _SH_C2[4] * (xx - yy) * sh[..., 8, :])
            if k > 9:
                result = (result
                          + _SH_C3[0] * y * (3.0 * xx - yy) * sh[..., 9, :]
                          + _SH_C3[1] * xy * z * sh[..., 10, :]
                          + _SH_C3[2] * y * (4.0 * zz - xx - yy) * sh[..., 11, :]
                          + _SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * sh[..., 12, :]
                          + _SH_C3[4] * x * (4.0 * zz - xx - yy) * sh[..., 13, :]
                          + _SH_C3[5] * z * (xx - yy) * sh[..., 14, :]
                          + _SH_C3[6] * x * (xx - 3.0 * yy) * sh[..., 15, :])
    return result + 0.5


def covariance(quats: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """Covariances [..., 3, 3] = R S Sᵀ Rᵀ from quaternions [..., 4] (wxyz) and standard deviations [..., 3]."""
    m = quat_to_rotmat(quats) * scales[..., None, :]
    return m @ m.transpose(-1, -2)


@dataclass(frozen=True)
class GaussianCloud:
    """N anisotropic 3D Gaussians with SH colour; see the module docstring for conventions."""

    means: torch.Tensor  # [N, 3]
    quats: torch.Tensor  # [N, 4] wxyz
    log_scales: torch.Tensor  # [N, 3]
    opacity_logits: torch.Tensor  # [N]
    sh: torch.Tensor  # [N, K, 3]

    def __post_init__(self) -> None:
        n = self.means.shape[0] if self.means.ndim == 2 else -1
        expected = {
            "means": (n, 3),
            "quats": (n, 4),
            "log_scales": (n, 3),
            "opacity_logits": (n,),
        }
        for name, shape in expected.items():
            value = getattr(self, name)
            if not isinstance(value, torch.Tensor):
                raise InvalidGaussiansError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
            if tuple(value.shape) != shape:
                raise InvalidGaussiansError(
                    f"{name} has shape {tuple(value.shape)}, expected {shape} "
                    f"(N = {n} from means)" if n >= 0 else f"means must be [N, 3], got {tuple(value.shape)}"
                )
        if not isinstance(self.sh, torch.Tensor) or self.sh.ndim != 3 or self.sh.shape[0] != n \
                or self.sh.shape[2] != 3:
            shape = tuple(self.sh.shape) if isinstance(self.sh, torch.Tensor) else type(self.sh).__name__
            raise InvalidGaussiansError(f"sh has shape {shape}, expected ({n}, K, 3)")
        sh_degree_for(self.sh.shape[1])
        dtype, device = self.means.dtype, self.means.device
        if not dtype.is_floating_point:
            raise InvalidGaussiansError(f"Gaussian parameters must be floating point, got {dtype}")
        for f in fields(self):
            value = getattr(self, f.name)
            if value.dtype != dtype or value.device != device:
                raise InvalidGaussiansError(
                    f"{f.name} is {value.dtype} on {value.device}, but means is {dtype} on {device}"
                )
            bad = int((~torch.isfinite(value.detach())).sum())
            if bad:
                raise InvalidGaussiansError(f"{f.name} contains {bad} NaN or infinite values")

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_activated(
        cls,
        means: torch.Tensor,  # [N, 3]
        rgb: torch.Tensor,  # [N, 3] in [0, 1]
        scales: torch.Tensor,  # [N, 3] standard deviations, metres (> 0)
        opacities: torch.Tensor,  # [N] in (0, 1)
        quats: torch.Tensor | None = None,  # [N, 4] wxyz, identity when None
    ) -> GaussianCloud:
        """Build a degree-0 cloud from activated values (colour, scale, opacity)."""
        n = means.shape[0]
        if quats is None:
            quats = torch.zeros(n, 4, dtype=means.dtype, device=means.device)
            quats[:, 0] = 1.0
        eps = torch.finfo(means.dtype).eps
        return cls(
            means=means,
            quats=quats,
            log_scales=torch.log(scales),
            opacity_logits=torch.logit(opacities.clamp(eps, 1 - eps)),
            sh=rgb_to_sh0(rgb)[:, None, :],
        )

    @classmethod
    def concatenate(cls, clouds: Sequence[GaussianCloud]) -> GaussianCloud:
        """Concatenate clouds; SH are padded with zeros to the highest degree present."""
        if not clouds:
            raise InvalidGaussiansError("cannot concatenate an empty list of clouds")
        k = max(c.sh.shape[1] for c in clouds)
        padded = [
            torch.nn.functional.pad(c.sh, (0, 0, 0, k - c.sh.shape[1])) for c in clouds
        ]
        return cls(
            means=torch.cat([c.means for c in clouds]),
            quats=torch.cat([c.quats for c in clouds]),
            log_scales=torch.cat([c.log_scales for c in clouds]),
            opacity_logits=torch.cat([c.opacity_logits for c in clouds]),
            sh=torch.cat(padded),
        )

    # ---------------------------------------------------------------- basic properties
    def __len__(self) -> int:
        return self.means.shape[0]

    @property
    def sh_degree(self) -> int:
        return sh_degree_for(self.sh.shape[1])

    @property
    def device(self) -> torch.device:
        return self.means.device

    @property
    def dtype(self) -> torch.dtype:
        return self.means.dtype

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> GaussianCloud:
        """Copy to another device and/or floating dtype."""
        return GaussianCloud(**{f.name: getattr(self, f.name).to(device=device, dtype=dtype) for f in fields(self)})

    def subset(self, index: torch.Tensor | slice) -> GaussianCloud:
        """Gaussians selected by a boolean mask [N], an index tensor [M] or a slice."""
        return GaussianCloud(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def with_sh_degree(self, degree: int) -> GaussianCloud:
        """Same cloud with SH truncated or zero-padded to ``degree``."""
        k = SH_COEFFS[degree]
        sh = self.sh[:, :k] if k <= self.sh.shape[1] else torch.nn.functional.pad(
            self.sh, (0, 0, 0, k - self.sh.shape[1])
        )
        return GaussianCloud(self.means, self.quats, self.log_scales, self.opacity_logits, sh)

    def transformed(self, scale: float, rotation: torch.Tensor, translation: torch.Tensor) -> GaussianCloud:
        """The cloud moved by the similarity x ↦ ``scale`` · ``rotation`` [3, 3] x + ``translation`` [3]
        (column vectors): means moved, orientations turned, sizes scaled; colours as they are (the
        SH are not rotated: exact for degree 0)."""
        R = rotation.to(self.means)
        turn = rotmat_to_quat(R[None])[0].expand_as(self.quats)
        return GaussianCloud(scale * self.means @ R.T + translation.to(self.means), quat_multiply(turn, self.quats),
                             self.log_scales + math.log(scale), self.opacity_logits, self.sh)

    # ---------------------------------------------------------------- activations
    def scales(self) -> torch.Tensor:
        """Standard deviations [N, 3] in metres."""
        return torch.exp(self.log_scales)

    def opacities(self) -> torch.Tensor:
        """Opacities [N] in (0, 1)."""
        return torch.sigmoid(self.opacity_logits)

    def rotations(self) -> torch.Tensor:
        """Unit quaternions [N, 4], wxyz."""
        return self.quats / self.quats.norm(dim=-1, keepdim=True)

    def base_colors(self) -> torch.Tensor:
        """View-independent (degree-0) RGB [N, 3], clamped to [0, 1]."""
        return (0.5 + SH_C0 * self.sh[:, 0]).clamp(0.0, 1.0)

    def colors(self, camera_center: torch.Tensor | None = None) -> torch.Tensor:
        """RGB [N, 3] in [0, 1] seen from ``camera_center`` [3] (world, metres).

        Without a camera centre (or for degree 0) this is the view-independent colour.
        """
        if camera_center is None or self.sh.shape[1] == 1:
            return self.base_colors()
        dirs = self.means - camera_center.to(self.means)
        dirs = dirs / dirs.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return eval_sh(self.sh, dirs).clamp(0.0, 1.0)

    def covariances(self) -> torch.Tensor:
        """World covariances [N, 3, 3] = R S Sᵀ Rᵀ, metres²."""
        return covariance(self.quats, self.scales())

    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Axis-aligned box [3], [3] around the means; raises on an empty cloud."""
        if len(self) == 0:
            raise InvalidGaussiansError("an empty cloud has no bounds")
        return self.means.min(dim=0).values, self.means.max(dim=0).values

    def radius(self) -> float:
        """Radius (metres) of a sphere around the box centre containing all means."""
        lo, hi = self.bounds()
        return float(((hi - lo) * 0.5).norm()) or math.ulp(1.0)
