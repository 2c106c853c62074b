import json
import struct

import numpy as np
import pytest
import torch
import trimesh
from pygltflib import GLTF2

from core.export.splat_gltf import EXTENSION, save_splat_glb, srgb_to_linear
from core.gaussians import SH_C0, GaussianCloud


def _cloud(n: int = 300, degree: int = 3) -> GaussianCloud:
    generator = torch.Generator().manual_seed(3)
    return GaussianCloud(torch.randn(n, 3, generator=generator), torch.randn(n, 4, generator=generator),
                         torch.randn(n, 3, generator=generator) - 4, torch.randn(n, generator=generator),
                         0.5 * torch.randn(n, (degree + 1) ** 2, 3, generator=generator))


def _read(gltf: GLTF2, index: int) -> np.ndarray:
    accessor = gltf.accessors[index]
    view = gltf.bufferViews[accessor.bufferView]
    dtype = {5126: np.float32, 5121: np.uint8}[accessor.componentType]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[accessor.type]
    data = gltf.binary_blob()[view.byteOffset: view.byteOffset + view.byteLength]
    return np.frombuffer(data, dtype).reshape(accessor.count, width).astype(np.float64)


def test_splats_follow_the_khr_gaussian_splatting_text(tmp_path):
    """Read back with pygltflib: POINTS, the extension object, xyzw unit quaternions, linear scales and
    opacities, the SH coefficients of every degree in m order, and a linear-light COLOR_0 fallback."""
    cloud = _cloud()
    gltf = GLTF2().load(str(save_splat_glb(tmp_path / "a.glb", cloud)))
    assert gltf.extensionsUsed == [EXTENSION] and not gltf.extensionsRequired
    primitive = gltf.meshes[0].primitives[0]
    assert primitive.mode == 0 and primitive.extensions[EXTENSION] == {
        "kernel": "ellipse", "colorSpace": "srgb_rec709_display", "projection": "perspective",
        "sortingMethod": "cameraDistance"}
    attributes = json.loads(primitive.attributes.to_json())
    read = {name: _read(gltf, index) for name, index in attributes.items() if index is not None}
    assert len(read) == 4 + 16 + 1  # position, rotation, scale, opacity; 16 SH coefficients; COLOR_0
    position = gltf.accessors[attributes["POSITION"]]
    np.testing.assert_allclose(position.min, cloud.means.min(0).values.numpy(), rtol=1e-6)
    np.testing.assert_allclose(read["POSITION"], cloud.means.numpy(), rtol=1e-6)
    quats = read[f"{EXTENSION}:ROTATION"]
    np.testing.assert_allclose(np.linalg.norm(quats, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(quats[:, [3, 0, 1, 2]], torch.nn.functional.normalize(cloud.quats, dim=1).numpy(),
                               atol=1e-6)
    np.testing.assert_allclose(read[f"{EXTENSION}:SCALE"], cloud.scales().numpy(), rtol=1e-6)
    np.testing.assert_allclose(read[f"{EXTENSION}:OPACITY"][:, 0], cloud.opacities().numpy(), rtol=1e-6)
    for k in range(16):
        level = int(np.sqrt(k))
        np.testing.assert_allclose(read[f"{EXTENSION}:SH_DEGREE_{level}_COEF_{k - level * level}"],
                                   cloud.sh[:, k].numpy(), rtol=1e-6)
    srgb = np.clip(SH_C0 * cloud.sh[:, 0].double().numpy() + 0.5, 0, 1)
    np.testing.assert_allclose(read["COLOR_0"][:, :3] / 255, srgb_to_linear(srgb), atol=0.5 / 255 + 1e-9)
    assert srgb_to_linear(np.array([0.5]))[0] == pytest.approx(0.21404, abs=1e-4)


def test_a_reader_without_the_extension_sees_coloured_points(tmp_path):
    cloud = _cloud(200, degree=0)
    scene = trimesh.load(str(save_splat_glb(tmp_path / "b.glb", cloud)))
    points = next(iter(scene.geometry.values()))
    assert isinstance(points, trimesh.PointCloud) and len(points.vertices) == 200
    np.testing.assert_allclose(np.sort(points.vertices[:, 0]), np.sort(cloud.means[:, 0].numpy()), rtol=1e-6)


def test_the_glb_container_is_aligned_and_refuses_what_it_cannot_write(tmp_path):
    data = save_splat_glb(tmp_path / "c.glb", _cloud(7, degree=1)).read_bytes()
    magic, version, total = struct.unpack("<4sII", data[:12])
    length, kind = struct.unpack("<I4s", data[12:20])
    assert (magic, version, total, kind) == (b"glTF", 2, len(data), b"JSON") and length % 4 == 0
    with pytest.raises(ValueError, match=r"\.glb"):
        save_splat_glb(tmp_path / "c.gltf", _cloud(7))
    empty = _cloud(0, degree=0)
    with pytest.raises(ValueError, match="no Gaussians"):
        save_splat_glb(tmp_path / "d.glb", empty)
    assert not (tmp_path / "d.glb").exists()
