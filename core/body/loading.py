"""Body models by name: the one place that knows every backend."""

from __future__ import annotations

from core.body.anny_body import AnnyBody
from core.body.model import BodyModel
from core.body.smplx_body import SmplxBody


def load_body_model(name: str, smplx_dir: str | None = None) -> BodyModel:
    """The body model by name: "anny" (embedded) or "smplx" (the user's file from ``smplx_dir`` or
    $AVATARIUM_SMPLX_DIR). Raises ValueError for other names and the backends' own errors."""
    if name == "anny":
        return AnnyBody()
    if name == "smplx":
        return SmplxBody(smplx_dir)
    raise ValueError(f"unknown body model '{name}' (anny or smplx)")
