import numpy as np
import pytest
import torch
import trimesh
from pygltflib import GLTF2

from core.body.joints import JOINT_INDEX
from core.export.gltf import save_rigged_glb


def _accessor(gltf: GLTF2, index: int) -> np.ndarray:
    accessor = gltf.accessors[index]
    view = gltf.bufferViews[accessor.bufferView]
    dtype = {5126: np.float32, 5125: np.uint32, 5123: np.uint16, 5121: np.uint8}[accessor.componentType]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[accessor.type]
    data = gltf.binary_blob()[view.byteOffset: view.byteOffset + view.byteLength]
    return np.frombuffer(data, dtype).reshape(accessor.count, width)


def test_rigged_glb_reproduces_the_bodys_own_skinning(tmp_path, anny_body):
    shape = np.array([0.4, 0.5, 0.6, 0.5, 0.5, 0.5], np.float32)
    colours = np.tile([0.2, 0.6, 0.9], (anny_body.num_vertices, 1))
    path = save_rigged_glb(tmp_path / "body.glb", anny_body, shape, colours)
    gltf = GLTF2().load(str(path))
    primitive = gltf.meshes[0].primitives[0]
    positions = _accessor(gltf, primitive.attributes.POSITION).astype(np.float64)
    joints = _accessor(gltf, primitive.attributes.JOINTS_0).astype(int)
    weights = _accessor(gltf, primitive.attributes.WEIGHTS_0).astype(np.float64)
    inverse_binds = _accessor(gltf, gltf.skins[0].inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
    assert positions.shape == (anny_body.num_vertices, 3) and len(gltf.skins[0].joints) == len(anny_body.bone_names)
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-5)
    # glTF skinning at a pose: joint matrices = (our posed · rest⁻¹ transforms) · rest bones · inverse binds
    pose = torch.zeros(1, 55, 3)
    pose[0, JOINT_INDEX["left_elbow"], 1] = -1.2
    pose[0, JOINT_INDEX["right_knee"], 0] = 0.8
    out = anny_body.forward(torch.tensor(shape)[None], pose)
    rest_bones = anny_body.rest_bones(torch.tensor(shape)[None]).double().numpy()
    joint_matrices = out.transforms[0].double().numpy() @ rest_bones @ inverse_binds
    homogeneous = np.concatenate([positions, np.ones((len(positions), 1))], 1)
    blended = np.einsum("vk,vkij->vij", weights, joint_matrices[joints])
    skinned = np.einsum("vij,vj->vi", blended, homogeneous)[:, :3]
    error = np.linalg.norm(skinned - out.vertices[0].double().numpy(), axis=1)
    assert np.median(error) < 1e-3 and error.max() < 0.03  # four of anny's up to nine bones per vertex
    # local matrices chain back to the rest bones
    nodes = gltf.nodes
    world = {}

    def resolve(k, parent_world):
        world[k] = parent_world @ np.asarray(nodes[k].matrix).reshape(4, 4).T
        for child in nodes[k].children or []:
            resolve(child, world[k])

    resolve(gltf.skins[0].skeleton, np.eye(4))
    np.testing.assert_allclose(np.stack([world[k] for k in range(len(rest_bones))]), rest_bones, atol=1e-5)
    scene = trimesh.load(path)
    mesh = next(iter(scene.geometry.values()))
    assert len(mesh.faces) == len(anny_body.faces)
    with pytest.raises(ValueError, match=".glb"):
        save_rigged_glb(tmp_path / "body.gltf", anny_body, shape)
