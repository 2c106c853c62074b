"""A glTF 2.0 binary (``.glb``) assembler: typed arrays become buffer views and accessors of one
binary buffer, and the JSON document and the buffer are packed into the GLB container (4-byte
aligned chunks, little-endian). Used by the rigged body (:mod:`core.export.gltf`) and the splats
(:mod:`core.export.splat_gltf`)."""

from __future__ import annotations

import json
import struct

import numpy as np

FLOAT, UINT, USHORT, UBYTE = 5126, 5125, 5123, 5121
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


class GlbBuilder:
    """Collects arrays for one glTF buffer; :meth:`pack` writes the document around them."""

    def __init__(self) -> None:
        self._blobs: list[bytes] = []
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, array: np.ndarray, component: int, kind: str, target: int | None = None,
            normalized: bool = False, bounds: bool = False) -> int:
        """An accessor (its index) over ``array`` [count, …] stored as ``component`` (e.g. :data:`FLOAT`)
        of glTF ``kind`` ("SCALAR", "VEC3", "MAT4", …); ``bounds`` records min/max (POSITION needs them)."""
        offset = sum(len(b) for b in self._blobs)
        data = np.ascontiguousarray(array).tobytes()
        self._blobs.append(data + b"\0" * (-len(data) % 4))
        view = {"buffer": 0, "byteOffset": offset, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.views.append(view)
        accessor = {"bufferView": len(self.views) - 1, "componentType": component, "count": int(array.shape[0]),
                    "type": kind}
        if normalized:
            accessor["normalized"] = True
        if bounds:
            flat = array.reshape(len(array), -1)
            accessor["min"] = [float(v) for v in flat.min(0)]
            accessor["max"] = [float(v) for v in flat.max(0)]
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def pack(self, document: dict) -> bytes:
        """The GLB bytes of ``document`` (without accessors, bufferViews, buffers: added here)."""
        binary = b"".join(self._blobs)
        document = {**document, "accessors": self.accessors, "bufferViews": self.views,
                    "buffers": [{"byteLength": len(binary)}]}
        text = json.dumps(document, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 4)
        total = 12 + 8 + len(text) + 8 + len(binary)
        return (struct.pack("<4sII", b"glTF", 2, total) + struct.pack("<I4s", len(text), b"JSON") + text
                + struct.pack("<I4s", len(binary), b"BIN\0") + binary)
