"""Read and write 3D Gaussian splats in the INRIA 3DGS ``.ply`` layout.

Written layout (what every splat viewer reads): binary little-endian, one ``vertex`` element with
float32 properties in this order::

    x y z nx ny nz f_dc_0 f_dc_1 f_dc_2 f_rest_0 … f_rest_{3(K-1)-1} opacity scale_0..2 rot_0..3

- ``opacity`` is the logit, ``scale_*`` the log standard deviation (metres), ``rot_*`` the
  quaternion w, x, y, z; normals are written as zeros.
- ``f_rest`` is channel-major: ``f_rest[c·(K-1) + j]`` is channel c (R, G, B), coefficient j + 1.

Reading is tolerant: ascii or binary (either endianness), any numeric property type, properties
in any order, missing normals, extra properties and extra elements, SH degree 0–3, unnormalised
quaternions. Anything else raises :class:`PlyError` with a message meant for the user.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.gaussians import SH_COEFFS, GaussianCloud
from core.io.atomic import atomic_write
from core.limits import how_to_raise, limit

_MAX_HEADER_BYTES = 1 << 20

_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}
_REQUIRED = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
             "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]


class PlyError(ValueError):
    """A file that is not a readable 3DGS ``.ply``; ``str(err)`` says what is wrong for the user."""


@dataclass
class _Element:
    name: str
    count: int
    properties: list[tuple[str, str]]  # (name, numpy type code); list properties have code "list"


def _parse_header(raw: bytes, path: Path) -> tuple[str, list[_Element], int]:
    """Format, elements and byte offset of the data for the header at the start of ``raw``."""
    if not (raw.startswith(b"ply\n") or raw.startswith(b"ply\r\n")):
        raise PlyError(f"{path.name} is not a PLY file (it does not start with 'ply')")
    end = re.search(rb"end_header\r?\n", raw)
    if end is None:
        raise PlyError(f"{path.name}: the PLY header has no 'end_header' line (file truncated or damaged)")
    fmt = None
    elements: list[_Element] = []
    for lineno, line in enumerate(raw[: end.start()].decode("ascii", "replace").splitlines()[1:], 2):
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        try:
            if words[0] == "format":
                fmt = words[1]
                if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
                    raise PlyError(f"{path.name}: unknown PLY format '{fmt}'")
            elif words[0] == "element":
                count = int(words[2])
                if count < 0:
                    raise ValueError
                elements.append(_Element(words[1], count, []))
            elif words[0] == "property":
                if not elements:
                    raise PlyError(f"{path.name}: header line {lineno} declares a property before any element")
                if words[1] == "list":
                    elements[-1].properties.append((words[4], "list"))
                elif words[1] in _TYPES:
                    elements[-1].properties.append((words[2], _TYPES[words[1]]))
                else:
                    raise PlyError(f"{path.name}: header line {lineno} has unknown property type '{words[1]}'")
            else:
                raise PlyError(f"{path.name}: header line {lineno} is not valid PLY: {line.strip()!r}")
        except (IndexError, ValueError) as exc:
            if isinstance(exc, PlyError):
                raise
            raise PlyError(f"{path.name}: header line {lineno} is malformed: {line.strip()!r}") from None
    if fmt is None:
        raise PlyError(f"{path.name}: the PLY header has no 'format' line")
    return fmt, elements, end.end()


def _vertex_table(path: Path, max_splats: int) -> dict[str, np.ndarray]:
    """Columns (float64) of the ``vertex`` element of ``path``."""
    size = path.stat().st_size
    with open(path, "rb") as stream:
        head = stream.read(min(size, _MAX_HEADER_BYTES))
        fmt, elements, data_start = _parse_header(head, path)
        names = [e.name for e in elements]
        if "vertex" not in names:
            raise PlyError(f"{path.name} has no 'vertex' element (elements: {', '.join(names) or 'none'}), "
                           "so it holds no Gaussian splats")
        index = names.index("vertex")
        vertex = elements[index]
        if vertex.count == 0:
            raise PlyError(f"{path.name} contains 0 splats")
        if vertex.count > max_splats:
            raise PlyError(f"{path.name} declares {vertex.count:,} splats, more than the limit of "
                           f"{max_splats:,}; {how_to_raise('splats')}")
        props = [p for p, _ in vertex.properties]
        missing = [p for p in _REQUIRED if p not in props]
        if missing:
            raise PlyError(f"{path.name} is a PLY file but not a 3D Gaussian splat file: the vertex element "
                           f"lacks {', '.join(missing)}")
        if any(t == "list" for _, t in vertex.properties):
            raise PlyError(f"{path.name}: list properties in the vertex element are not supported")
        for before in elements[:index]:
            if any(t == "list" for _, t in before.properties):
                raise PlyError(f"{path.name}: element '{before.name}' before the vertices has list "
                               "properties; such files are not supported")
        stream.seek(data_start)
        if fmt == "ascii":
            table = _read_ascii(stream, elements[: index + 1], path)
        else:
            endian = "<" if fmt == "binary_little_endian" else ">"
            skip = sum(e.count * np.dtype([(p, endian + t) for p, t in e.properties]).itemsize
                       for e in elements[:index])
            dtype = np.dtype([(p, endian + t) for p, t in vertex.properties])
            need = data_start + skip + vertex.count * dtype.itemsize
            if size < need:
                raise PlyError(f"{path.name} is truncated: its header declares {vertex.count:,} splats "
                               f"({need:,} bytes) but the file has {size:,} bytes")
            stream.seek(data_start + skip)
            data = np.frombuffer(stream.read(vertex.count * dtype.itemsize), dtype=dtype)
            table = {p: data[p].astype(np.float64) for p in props}
    return table


def _read_ascii(stream, elements: list[_Element], path: Path) -> dict[str, np.ndarray]:
    """Columns of the last of ``elements`` from an ascii body (earlier elements are skipped)."""
    for element in elements[:-1]:
        for _ in range(element.count):
            if not stream.readline():
                raise PlyError(f"{path.name} is truncated inside element '{element.name}'")
    vertex = elements[-1]
    lines = []
    for i in range(vertex.count):
        line = stream.readline()
        if not line.strip():
            raise PlyError(f"{path.name} is truncated: its header declares {vertex.count:,} splats, "
                           f"the file holds {i:,}")
        lines.append(line)
    try:
        rows = np.array(b" ".join(lines).split(), dtype=np.float64)
    except ValueError:
        raise PlyError(f"{path.name}: the vertex data contains values that are not numbers") from None
    width = len(vertex.properties)
    if rows.size != vertex.count * width:
        raise PlyError(f"{path.name}: vertex rows do not have the {width} values the header declares")
    rows = rows.reshape(vertex.count, width)
    return {p: rows[:, i] for i, (p, _) in enumerate(vertex.properties)}


def read_ply(path: str | os.PathLike[str], max_splats: int | None = None) -> GaussianCloud:
    """Read a 3DGS ``.ply`` into a float32 :class:`GaussianCloud` on the CPU.

    Raises :class:`PlyError` for anything that is not a complete, finite splat file (missing or
    unreadable file, not PLY, no splat properties, 0 splats, truncated data, NaN/Inf values,
    zero quaternions, an unsupported SH coefficient count, more than ``max_splats`` splats; default
    :func:`core.limits.limit` ``("splats")``).
    """
    path = Path(path)
    try:
        table = _vertex_table(path, limit("splats", max_splats))
    except PlyError:
        raise
    except FileNotFoundError:
        raise PlyError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise PlyError(f"{path} is a folder, not a .ply file") from None
    except (OSError, MemoryError) as exc:
        raise PlyError(f"{path.name} could not be read: {exc}") from None
    except ValueError as exc:  # e.g. duplicate property names
        raise PlyError(f"{path.name} has a malformed PLY header: {exc}") from None

    rest_names = sorted((p for p in table if re.fullmatch(r"f_rest_\d+", p)), key=lambda p: int(p[7:]))
    if rest_names != [f"f_rest_{i}" for i in range(len(rest_names))]:
        raise PlyError(f"{path.name}: the f_rest_* properties are not numbered 0…{len(rest_names) - 1}")
    k = len(rest_names) // 3 + 1
    if len(rest_names) % 3 or k not in SH_COEFFS.values():
        raise PlyError(f"{path.name} has {len(rest_names)} f_rest properties; 3DGS files have 0, 9, 24 or "
                       "45 (SH degree 0–3)")

    def cols(names: list[str]) -> np.ndarray:
        return np.stack([table[n] for n in names], axis=1) if names else np.zeros((len(table["x"]), 0))

    means = cols(["x", "y", "z"])
    dc = cols(["f_dc_0", "f_dc_1", "f_dc_2"])
    rest = cols(rest_names).reshape(len(means), 3, k - 1).transpose(0, 2, 1)  # channel-major → [N, K-1, 3]
    sh = np.concatenate([dc[:, None, :], rest], axis=1)
    quats = cols(["rot_0", "rot_1", "rot_2", "rot_3"])
    arrays = {
        "means": means, "quats": quats, "log_scales": cols(["scale_0", "scale_1", "scale_2"]),
        "opacity_logits": table["opacity"], "sh": sh,
    }
    as32 = {name: value.astype(np.float32) for name, value in arrays.items()}
    bad = {name: int((~np.isfinite(value)).sum()) for name, value in as32.items()}
    if any(bad.values()):
        detail = ", ".join(f"{count} in {name}" for name, count in bad.items() if count)
        raise PlyError(f"{path.name} contains NaN or infinite values ({detail})")
    zero_quats = int((np.linalg.norm(as32["quats"], axis=1) == 0).sum())
    if zero_quats:
        raise PlyError(f"{path.name} has {zero_quats} splats with an all-zero rotation quaternion")
    return GaussianCloud(**{name: torch.from_numpy(np.ascontiguousarray(v)) for name, v in as32.items()})


def ply_property_names(sh_degree: int) -> list[str]:
    """Vertex property names, in file order, of a 3DGS .ply with SH degree ``sh_degree``."""
    rest = 3 * (SH_COEFFS[sh_degree] - 1)
    return (["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
            + [f"f_rest_{i}" for i in range(rest)]
            + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"])


def encode_ply(cloud: GaussianCloud) -> bytes:
    """The bytes of ``cloud`` as a binary little-endian INRIA 3DGS .ply."""
    n, k = len(cloud), cloud.sh.shape[1]
    if n == 0:
        raise PlyError("cannot write a .ply with 0 splats")
    def array(tensor: torch.Tensor) -> np.ndarray:  # no new cloud: its validation would pre-empt ours
        return tensor.detach().to("cpu", torch.float64).numpy()

    sh = array(cloud.sh)
    columns = np.concatenate(
        [
            array(cloud.means), np.zeros((n, 3)), sh[:, 0], sh[:, 1:].transpose(0, 2, 1).reshape(n, 3 * (k - 1)),
            array(cloud.opacity_logits)[:, None], array(cloud.log_scales), array(cloud.quats),
        ],
        axis=1,
    ).astype("<f4")
    if not np.isfinite(columns).all():
        bad = int((~np.isfinite(columns)).any(1).sum())
        raise PlyError(f"{bad} of {n} splats have NaN, infinite or too-large values; refusing to write a damaged "
                       "file")
    zero_quats = int((np.abs(columns[:, -4:]).sum(1) == 0).sum())
    if zero_quats:
        raise PlyError(f"{zero_quats} of {n} splats have an all-zero rotation quaternion; refusing to write them")
    names = ply_property_names(cloud.sh_degree)
    header = "\n".join(
        ["ply", "format binary_little_endian 1.0", "comment written by avatarium",
         f"element vertex {n}"] + [f"property float {p}" for p in names] + ["end_header", ""]
    )
    return header.encode("ascii") + columns.tobytes()


def write_ply(path: str | os.PathLike[str], cloud: GaussianCloud) -> None:
    """Write ``cloud`` to ``path`` atomically in the INRIA 3DGS layout (float32, little-endian)."""
    data = encode_ply(cloud)
    with atomic_write(path) as stream:
        stream.write(data)
