"""Running the reconstruction network on a photo and its body fit.

``Reconstructor(model_dir, body)`` loads a trained network (``model.safetensors`` + ``checkpoint.json``
from ``avatarium train``, and the ``query.npz`` of its dataset) and turns (photo, person observation,
body fit) into per-query-point predictions: canonical and posed positions, colours, offsets.

Network inputs are built exactly as the training set builds them: the person crop of
:func:`core.camera.frame_person` at the network's resolution, the query points posed by the fit and
projected with the fit's camera into the crop, their visibility (a z-buffer of the fitted body's
surface) and facing term (normal · direction to the camera).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from core.body.model import BodyModel, canonical_body
from core.body.surface import sample_surface, surface_points
from core.camera import PersonFrame, camera_center, frame_person
from core.detect.person import PersonObservation
from core.fit.overlay import posed_body, project_points
from core.fit.result import BodyFit
from core.recon.loading import load_network
from core.recon.model import Prediction
from core.recon.query import QueryPoints

VISIBILITY_TOLERANCE = 0.03  # metres behind the nearest surface a point still counts as seen


def visible_points(pixels: torch.Tensor, depth: torch.Tensor, surface_pixels: torch.Tensor,
                   surface_depth: torch.Tensor, size: int, tolerance: float = VISIBILITY_TOLERANCE) -> torch.Tensor:
    """Which points (pixels [P, 2], camera depth [P]) are seen in a ``size``² image, by a z-buffer of
    dense surface samples (pixels [M, 2], depth [M]): bool [P]."""
    def flat(px: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ij = px.floor().long()
        inside = (ij >= 0).all(1) & (ij < size).all(1)
        return ij[:, 1].clamp(0, size - 1) * size + ij[:, 0].clamp(0, size - 1), inside

    index, inside = flat(surface_pixels)
    zbuffer = torch.full((size * size,), float("inf")).scatter_reduce(
        0, index[inside], surface_depth[inside], reduce="amin")
    own, own_inside = flat(pixels)
    return own_inside & (depth <= zbuffer[own] + tolerance)


@dataclass(frozen=True)
class PersonInputs:
    """Network inputs for one person (batch of 1) and the geometry they came from."""

    tensors: dict[str, torch.Tensor]  # image, mask, canonical, uv, visible, facing (see ReconstructionNet)
    vertices: torch.Tensor  # [V, 3] the fitted body's posed mesh, world metres
    posed: torch.Tensor  # [P, 3] posed query points, world metres
    normals: torch.Tensor  # [P, 3] their posed outward normals
    frame: PersonFrame  # the network's crop


def person_inputs(body: BodyModel, query: QueryPoints, fit: BodyFit, rgb: np.ndarray, observation: PersonObservation,
                  size: int, surface_samples: int = 30000) -> PersonInputs:
    """The network's inputs for the person of ``observation`` in photo ``rgb`` fitted by ``fit``."""
    frame = frame_person(rgb, observation.mask, observation.box, size=size)
    canonical, _ = canonical_body(body, fit.shape)
    rest_points, _ = surface_points(body, canonical, query.triangles, query.barycentric)
    vertices = posed_body(body, fit).vertices[0]
    posed, frames = surface_points(body, vertices, query.triangles, query.barycentric)
    _, triangles, barycentric = sample_surface(canonical, body.faces, surface_samples, seed=1, stratified=True)
    dense, _ = surface_points(body, vertices, triangles, barycentric)

    def crop_pixels(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        camera = points.double().numpy() @ fit.viewmat[:3, :3].T + fit.viewmat[:3, 3]
        pixels = frame.to_crop(project_points(fit, points.double().numpy()))
        return torch.tensor(pixels, dtype=torch.float32), torch.tensor(camera[:, 2], dtype=torch.float32)

    uv, depth = crop_pixels(posed)
    dense_uv, dense_depth = crop_pixels(dense)
    visible = visible_points(uv, depth, dense_uv, dense_depth, size)
    to_camera = torch.tensor(camera_center(fit.viewmat), dtype=torch.float32) - posed
    normals = frames[..., 2]
    facing = (normals * torch.nn.functional.normalize(to_camera, dim=1)).sum(1)
    tensors = {
        "image": torch.tensor(frame.image).permute(2, 0, 1)[None].float() / 255,
        "mask": torch.tensor(frame.mask)[None, None].float(),
        "canonical": rest_points[None], "uv": uv[None], "visible": visible[None].float(), "facing": facing[None],
    }
    return PersonInputs(tensors, vertices, posed, normals, frame)


class Reconstructor:
    """A loaded network; call it with a photo's RGB, the person observation and the body fit.
    ``onnx`` (a file from :func:`core.recon.onnx_runtime.export_onnx` of the same folder) runs the
    network with onnxruntime instead of torch."""

    def __init__(self, folder: str | os.PathLike[str], body: BodyModel, onnx: str | os.PathLike[str] | None = None
                 ) -> None:
        self.model, self.query, self.meta = load_network(folder)
        self.body = body
        self.runner = self.model
        if onnx is not None:
            from core.recon.onnx_runtime import OnnxNetwork

            self.runner = OnnxNetwork(onnx, threads=torch.get_num_threads())

    def __call__(self, rgb: np.ndarray, observation: PersonObservation, fit: BodyFit
                 ) -> tuple[PersonInputs, Prediction]:
        inputs = person_inputs(self.body, self.query, fit, rgb, observation, self.model.config.image_size)
        with torch.no_grad():
            prediction = self.runner(**inputs.tensors)
        return inputs, prediction
