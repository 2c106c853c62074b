"""Niantic's compressed splat format ``.spz`` (version 3: one gzip stream), written and read.

Layout (nianticlabs/spz ``load-spz.cc`` at v2.1.0; all little-endian): a 16-byte header ``magic``
0x5053474e ("NGSP"), ``version`` 3, ``numPoints`` (uint32), ``shDegree``, ``fractionalBits``,
``flags``, ``reserved`` (uint8 each), then per attribute for all points in turn:

- positions: 3 × 24-bit signed fixed point with :data:`FRACTIONAL_BITS` fractional bits (1/4096 m),
- alphas: uint8 ``round(sigmoid(opacity logit) · 255)``, at most 254 (readers decode 255 as an
  infinite logit),
- colours: 3 × uint8 ``round(f_dc · 0.15 · 255 + 127.5)`` (the SH DC coefficient, not the colour),
- scales: 3 × uint8 ``round((log σ + 10) · 16)``,
- rotations: "smallest three" in a uint32: bits 30–31 the index (x, y, z, w = 0…3) of the largest
  component of the unit quaternion (xyzw), then the other three in index order, 10 bits each (a sign
  bit relative to the largest, then 9 bits of magnitude in units of √½ / 511),
- SH degrees 1–3: one uint8 per coefficient, ``round(x · 128) + 128`` snapped to buckets of 8
  (degree 1) or 16 (degrees 2–3), colour channel fastest.

Axes: the format stores RUB (x right, y up, z back); a ``.ply`` is read by splat tools as RDF (x
right, y down, z forward), so the splats are turned 180° about x on the way (y and z negated, the
quaternions' y and z, and the SH coefficients odd in y or z, negated): a tool that reads both files
(PlayCanvas's splat-transform) sees the same splats in both. Reading turns them back. Versions 2
(3-byte rotations) and 3 are read; version 4 (a zstd container) is refused with a message.
Quantisation loses at most ½ step of each encoding (SH beyond ±1 is clipped).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from core.gaussians import SH_COEFFS, GaussianCloud
from core.io.atomic import write_bytes_atomic

MAGIC = 0x5053474E
VERSION = 3
FRACTIONAL_BITS = 12
COLOUR_SCALE = 0.15
_HEADER = struct.Struct("<IIIBBBB")
_SQRT1_2 = math.sqrt(0.5)
#: Bits kept of each SH coefficient (degree 1, degrees 2–3), as Niantic's packer keeps them.
_SH_BITS = (5, 4)
MAX_POINTS = 20_000_000
#: Signs that turn RDF and RUB into each other (180° about x): positions, and so also a quaternion's x y z
#: (conjugation by the turn), and of the SH coefficients 0…15 (the basis functions odd in y or z).
_TURN = np.array([1.0, -1.0, -1.0])
_TURN_QUAT = np.append(_TURN, 1.0)  # x y z w
_TURN_SH = np.array([1.0, -1, -1, 1, -1, 1, 1, -1, 1, -1, 1, -1, -1, 1, -1, 1])


class SpzError(ValueError):
    """A file that is not a readable ``.spz`` (the message names the file and the problem)."""


def _uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(values), 0, 255).astype(np.uint8)


def _smallest_three(quats: np.ndarray) -> np.ndarray:
    """Unit quaternions [N, 4] xyzw → uint32 [N] (see the module docstring)."""
    largest = np.abs(quats).argmax(1)
    negate = quats[np.arange(len(quats)), largest] < 0
    packed = largest.astype(np.uint32)
    for i in range(4):
        others = largest != i
        sign = ((quats[:, i] < 0) ^ negate).astype(np.uint32)
        magnitude = np.floor(511.0 * np.abs(quats[:, i]) / _SQRT1_2 + 0.5).astype(np.uint32).clip(0, 511)
        packed = np.where(others, (packed << 10) | (sign << 9) | magnitude, packed)
    return packed


def _from_smallest_three(packed: np.ndarray) -> np.ndarray:
    """uint32 [N] → unit quaternions [N, 4] xyzw."""
    largest = (packed >> 30).astype(np.int64)
    quats = np.zeros((len(packed), 4))
    shift = np.zeros(len(packed), np.int64)
    for i in (3, 2, 1, 0):  # the last component sits in the lowest bits
        others = largest != i
        field = (packed >> shift.astype(np.uint32)) & 0x3FF
        value = _SQRT1_2 * (field & 0x1FF) / 511.0 * np.where(field & 0x200, -1.0, 1.0)
        quats[:, i] = np.where(others, value, 0.0)
        shift = shift + others * 10
    rest = (quats**2).sum(1)
    quats[np.arange(len(packed)), largest] = np.sqrt(np.clip(1.0 - rest, 0.0, None))
    return quats


def _quantise_sh(values: np.ndarray, bits: int) -> np.ndarray:
    bucket = 1 << (8 - bits)
    q = np.round(values * 128.0).astype(np.int64) + 128
    return np.clip((q + bucket // 2) // bucket * bucket, 0, 255).astype(np.uint8)


def encode_spz(cloud: GaussianCloud) -> bytes:
    """``cloud`` as ``.spz`` version 3 bytes (gzip-compressed)."""
    n = len(cloud)
    degree = int(round(math.sqrt(cloud.sh.shape[1]))) - 1
    means = cloud.means.detach().double().numpy() * _TURN
    fixed = np.round(means * (1 << FRACTIONAL_BITS)).astype(np.int64)
    if np.abs(fixed).max(initial=0) >= 1 << 23:
        raise ValueError(f"positions beyond ±{2 ** (23 - FRACTIONAL_BITS)} m do not fit the .spz fixed point")
    positions = np.stack([(fixed >> s) & 0xFF for s in (0, 8, 16)], -1).astype(np.uint8)  # [N, 3, 3]
    alphas = np.minimum(_uint8(cloud.opacities().detach().double().numpy() * 255.0), 254)
    sh = cloud.sh.detach().double().numpy() * _TURN_SH[: cloud.sh.shape[1], None]
    colours = _uint8(sh[:, 0] * (COLOUR_SCALE * 255.0) + 0.5 * 255.0)
    scales = _uint8((cloud.log_scales.detach().double().numpy() + 10.0) * 16.0)
    quats = cloud.quats.detach().double().numpy()[:, [1, 2, 3, 0]] * _TURN_QUAT
    quats = quats / np.linalg.norm(quats, axis=1, keepdims=True).clip(1e-12)
    rotations = _smallest_three(quats).astype("<u4").view(np.uint8).reshape(n, 4)
    rest = np.concatenate([_quantise_sh(sh[:, 1:4], _SH_BITS[0]).reshape(n, -1),  # per point, channel fastest
                           _quantise_sh(sh[:, 4:], _SH_BITS[1]).reshape(n, -1)], 1)
    header = _HEADER.pack(MAGIC, VERSION, n, degree, FRACTIONAL_BITS, 0, 0)
    body = b"".join(np.ascontiguousarray(a).tobytes() for a in (positions, alphas, colours, scales, rotations, rest))
    return gzip.compress(header + body, compresslevel=9, mtime=0)


def write_spz(path: str | os.PathLike[str], cloud: GaussianCloud) -> Path:
    """Write ``cloud`` to ``path`` (``.spz``, atomic); the path."""
    target = Path(path)
    if target.suffix.lower() != ".spz":
        raise ValueError(f"compressed splats are written as .spz, not '{target.suffix}'")
    if len(cloud) == 0:
        raise ValueError("the avatar has no Gaussians to write")
    write_bytes_atomic(target, encode_spz(cloud))
    return target


def decode_spz(data: bytes, name: str = "the file") -> GaussianCloud:
    """The splats of ``.spz`` bytes (versions 2 and 3); :class:`SpzError` for anything else."""
    if data[:4] == b"NGSP":
        raise SpzError(f"{name} is a version 4 .spz (zstd container), which this reader does not open yet; "
                       "convert it with splat-transform (--spz-version 3)")
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise SpzError(f"{name} is not a .spz file (not a gzip stream: {exc})") from None
    if len(raw) < _HEADER.size:
        raise SpzError(f"{name} is truncated: no complete .spz header")
    magic, version, n, degree, bits, _, _ = _HEADER.unpack_from(raw)
    if magic != MAGIC:
        raise SpzError(f"{name} is not a .spz file (magic {magic:#x})")
    if version not in (2, 3) or degree > 3 or n > MAX_POINTS:
        raise SpzError(f"{name}: unsupported .spz (version {version}, SH degree {degree}, {n} points)")
    rest = (SH_COEFFS[degree] - 1) * 3
    sizes = (9, 1, 3, 3, 3 if version == 2 else 4, rest)
    if len(raw) != _HEADER.size + n * sum(sizes):
        raise SpzError(f"{name} is truncated or damaged: {len(raw) - _HEADER.size} bytes of data for {n} splats "
                       f"need {n * sum(sizes)}")
    arrays, offset = [], _HEADER.size
    for size in sizes:
        arrays.append(np.frombuffer(raw, np.uint8, n * size, offset).reshape(n, size))
        offset += n * size
    positions, alphas, colours, scales, rotations, sh_rest = arrays
    fixed = positions.reshape(n, 3, 3).astype(np.int64)
    fixed = fixed[..., 0] | (fixed[..., 1] << 8) | (fixed[..., 2] << 16)
    fixed = np.where(fixed & 0x800000, fixed - (1 << 24), fixed)
    means = fixed / float(1 << bits) * _TURN
    if version == 2:
        xyz = rotations / 127.5 - 1.0
        quats = np.concatenate([xyz, np.sqrt(np.clip(1 - (xyz**2).sum(1, keepdims=True), 0, None))], 1)
    else:
        quats = _from_smallest_three(rotations.copy().view("<u4")[:, 0])
    alpha = np.clip(alphas[:, 0] / 255.0, 1e-6, 1 - 1e-6)
    dc = (colours / 255.0 - 0.5) / COLOUR_SCALE
    sh = np.concatenate([dc[:, None], (sh_rest.reshape(n, -1, 3) - 128.0) / 128.0], 1)
    sh = sh * _TURN_SH[: SH_COEFFS[degree], None]
    quats = quats * _TURN_QUAT
    return GaussianCloud(*(torch.tensor(a, dtype=torch.float32) for a in (
        means, quats[:, [3, 0, 1, 2]], scales / 16.0 - 10.0, np.log(alpha / (1 - alpha)), sh)))


def read_spz(path: str | os.PathLike[str]) -> GaussianCloud:
    """The splats of the ``.spz`` file at ``path``."""
    path = Path(path)
    return decode_spz(path.read_bytes(), path.name)
