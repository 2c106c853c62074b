import numpy as np
import pytest
import torch
import trimesh
from pygltflib import GLTF2

from core.body.humanoid import HUMANOID_NAMES
from core.body.joints import JOINT_INDEX, JOINT_NAMES, zero_pose
from core.body.motions import builtin_motion
from core.export.gltf import save_rigged_glb
from core.rotations import quat_to_rotmat


def _accessor(gltf: GLTF2, index: int) -> np.ndarray:
    accessor = gltf.accessors[index]
    view = gltf.bufferViews[accessor.bufferView]
    dtype = {5126: np.float32, 5125: np.uint32, 5123: np.uint16, 5121: np.uint8}[accessor.componentType]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[accessor.type]
    data = gltf.binary_blob()[view.byteOffset: view.byteOffset + view.byteLength]
    return np.frombuffer(data, dtype).reshape(accessor.count, width)


def _node_worlds(gltf: GLTF2, animation: int | None = None, frame: int = 0) -> np.ndarray:
    """World matrices [K, 4, 4] of the skin's joint nodes from their translation / rotation (glTF x y z w),
    the animation's values at ``frame`` replacing the rest values where it has a channel."""
    trs = {k: [np.asarray(node.translation or [0.0, 0.0, 0.0]), np.asarray(node.rotation or [0.0, 0.0, 0.0, 1.0])]
           for k, node in enumerate(gltf.nodes)}
    if animation is not None:
        for channel in gltf.animations[animation].channels:
            sampler = gltf.animations[animation].samplers[channel.sampler]
            trs[channel.target.node][0 if channel.target.path == "translation" else 1] = (
                _accessor(gltf, sampler.output)[frame].astype(np.float64))
    world = {}

    def resolve(k: int, parent_world: np.ndarray) -> None:
        local = np.eye(4)
        x, y, z, w = trs[k][1]
        local[:3, :3] = quat_to_rotmat(torch.tensor([w, x, y, z], dtype=torch.float64)).numpy()
        local[:3, 3] = trs[k][0]
        world[k] = parent_world @ local
        for child in gltf.nodes[k].children or []:
            resolve(child, world[k])

    resolve(gltf.skins[0].skeleton, np.eye(4))
    return np.stack([world[k] for k in gltf.skins[0].joints])


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
    # the nodes' rest transforms chain back to the rest bones
    worlds = _node_worlds(gltf)
    np.testing.assert_allclose(worlds[: len(rest_bones)], rest_bones, atol=1e-5)
    scene = trimesh.load(path)
    mesh = next(iter(scene.geometry.values()))
    assert len(mesh.faces) == len(anny_body.faces)
    with pytest.raises(ValueError, match=".glb"):
        save_rigged_glb(tmp_path / "body.gltf", anny_body, shape)


@pytest.mark.parametrize("rig", ["native", "humanoid"])
def test_rigs_play_a_motion_with_the_bodys_own_joints(tmp_path, anny_body, rig):
    """A motion baked into the .glb as an animation, replayed through the file's own node hierarchy, puts
    every named joint where the body model puts it (≤ 1 mm), and skins the mesh like the body."""
    shape = np.array([0.4, 0.5, 0.6, 0.5, 0.5, 0.5], np.float32)
    wave, walk = builtin_motion("wave", 30.0), builtin_motion("walk", 30.0)
    gltf = GLTF2().load(str(save_rigged_glb(tmp_path / "body.glb", anny_body, shape, rig=rig, motions=[wave, walk])))
    assert [a.name for a in gltf.animations] == ["wave", "walk"]
    times = _accessor(gltf, gltf.animations[1].samplers[0].input)[:, 0]
    assert len(times) == len(walk) and times[-1] == pytest.approx(walk.duration, abs=1e-4)
    names = [gltf.nodes[k].name for k in gltf.skins[0].joints]
    bone_of = {joint: names.index(HUMANOID_NAMES[joint] if rig == "humanoid" else bone)
               for joint, bone in anny_body.joint_bones.items()}
    joints = [JOINT_INDEX[j] for j in bone_of]
    primitive = gltf.meshes[0].primitives[0]
    positions = np.concatenate([_accessor(gltf, primitive.attributes.POSITION), np.ones((anny_body.num_vertices, 1))],
                               1).astype(np.float64)
    influences = _accessor(gltf, primitive.attributes.JOINTS_0).astype(int)
    weights = _accessor(gltf, primitive.attributes.WEIGHTS_0).astype(np.float64)
    inverse_binds = _accessor(gltf, gltf.skins[0].inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
    for frame in (0, 37, len(walk) - 1):
        worlds = _node_worlds(gltf, animation=1, frame=frame)
        out = anny_body.forward(torch.tensor(shape)[None], walk.poses[frame][None], walk.trans[frame][None])
        ours = worlds[list(bone_of.values()), :3, 3]
        error = np.linalg.norm(ours - out.joints[0, joints].double().numpy(), axis=1)
        assert error.max() <= 1e-3, (frame, [JOINT_NAMES[j] for j in joints][int(error.argmax())], error.max())
        blended = np.einsum("vk,vkij->vij", weights, (worlds @ inverse_binds)[influences])
        skinned = np.einsum("vij,vj->vi", blended, positions)[:, :3]
        assert np.median(np.linalg.norm(skinned - out.vertices[0].double().numpy(), axis=1)) < 1e-3


def test_humanoid_rig_is_named_for_game_tools_and_bound_in_the_t_pose(tmp_path, anny_body):
    shape = np.full(6, 0.5, np.float32)
    gltf = GLTF2().load(str(save_rigged_glb(tmp_path / "h.glb", anny_body, shape, rig="humanoid")))
    names = [gltf.nodes[k].name for k in gltf.skins[0].joints]
    assert set(HUMANOID_NAMES.values()) - set(names) == {"Jaw"}  # anny has no jaw bone
    assert gltf.nodes[gltf.skins[0].skeleton].name == "Hips" and not gltf.animations
    for k in gltf.skins[0].joints:  # rest frames aligned with the world axes
        assert np.allclose(gltf.nodes[k].rotation, [0, 0, 0, 1], atol=1e-6)
    worlds = _node_worlds(gltf)
    at = {name: worlds[i, :3, 3] for i, name in enumerate(names)}
    for side, sign in (("Left", 1.0), ("Right", -1.0)):  # T-pose: arms out sideways, level with the shoulders
        arm = at[f"{side}Hand"] - at[f"{side}Arm"]
        assert sign * arm[0] > 0.4 and abs(arm[1]) < 0.03 and abs(arm[2]) < 0.03
    tpose = anny_body.forward(torch.tensor(shape)[None], zero_pose()[None]).vertices[0].numpy()
    positions = _accessor(gltf, gltf.meshes[0].primitives[0].attributes.POSITION)
    assert np.abs(positions - tpose).max() < 1e-5
    with pytest.raises(ValueError, match="rigs are"):
        save_rigged_glb(tmp_path / "x.glb", anny_body, shape, rig="mixamo")
