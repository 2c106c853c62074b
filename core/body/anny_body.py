"""anny (Apache-2.0 code, CC0 MakeHuman data) as a :class:`BodyModel`: the embedded default body.

anny's frame is Z up, facing -Y; ours is Y up, facing +Z. The change of frame happens here and
nowhere else: ``x_ours = FRAME @ x_anny``.

Posing retargets the SMPL-X vocabulary onto anny's 104 bones through world rotations: each
vocabulary joint's world rotation (relative to the T-pose) is applied to the anny bone it maps to,
after an alignment that turns anny's A-pose arms and hands into the T-pose, so the zero pose is a
T-pose for both backends. Unmapped anny bones (twist bones, metacarpals, toes' outer phalanges…)
move rigidly with their parent. anny has no jaw bone: the ``jaw`` rotation is ignored.
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.body.anny_data import load_model_data
from core.body.joints import JOINT_INDEX, JOINT_NAMES, KEYPOINT_NAMES, global_rotations
from core.body.lbs import skin_points
from core.body.model import BodyModel, BodyOutput, RestBody, ShapeParameter, sparse_rows
from core.resources import resource_path
from core.rotations import rotation_between

#: anny (Z up, facing -Y) → ours (Y up, facing +Z).
FRAME = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

_SIDES = {"left": "L", "right": "R"}
_FINGERS = {"thumb": 1, "index": 2, "middle": 3, "ring": 4, "pinky": 5}


def _joint_to_bone() -> dict[str, str]:
    """Vocabulary joint → anny bone (DESIGN §4); jaw has no anny bone."""
    mapping = {"pelvis": "root", "spine1": "spine03", "spine2": "spine02", "spine3": "spine01",
               "neck": "neck01", "head": "head"}
    for side, s in _SIDES.items():
        mapping.update({
            f"{side}_hip": f"upperleg01.{s}", f"{side}_knee": f"lowerleg01.{s}", f"{side}_ankle": f"foot.{s}",
            f"{side}_foot": f"toe3-1.{s}", f"{side}_collar": f"clavicle.{s}",
            f"{side}_shoulder": f"upperarm01.{s}", f"{side}_elbow": f"lowerarm01.{s}",
            f"{side}_wrist": f"wrist.{s}", f"{side}_eye_smplhf": f"eye.{s}",
        })
        for finger, number in _FINGERS.items():
            for phalanx in (1, 2, 3):
                mapping[f"{side}_{finger}{phalanx}"] = f"finger{number}-{phalanx}.{s}"
    return mapping


JOINT_TO_BONE = _joint_to_bone()

#: Extra bones driven by a vocabulary joint besides its own bone (all five toes follow the foot).
_ALSO_DRIVEN = {f"toe{t}-1.{s}": f"{side}_foot" for side, s in _SIDES.items() for t in (1, 2, 4, 5)}

#: Bones turned from the A-pose to the T-pose: (bone, bone whose head ends the segment, T-pose direction).
_ARM_ALIGNMENT = [
    (f"{bone}.{s}", f"{end}.{s}", 1.0 if s == "L" else -1.0)
    for s in ("L", "R")
    for bone, end in (("upperarm01", "lowerarm01"), ("lowerarm01", "wrist"), ("wrist", "finger3-1"))
]


def world_orient_transforms(orientation: torch.Tensor, root: torch.Tensor, rest: torch.Tensor, parent: torch.Tensor,
                            ancestors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """anny's "world-orient" forward kinematics (``anny.utils.kinematics.forward_kinematic``) without its
    level-by-level chain: bone transforms [..., B, 4, 4] (rest → posed, for skinning) and posed bone poses
    [..., B, 4, 4] from the bones' world ``orientation`` [..., B, 3, 3], the root bone's head position
    ``root`` [..., 3] and the ``rest`` bone poses [..., B, 4, 4] (anny's frame, metres). ``parent`` [B]
    holds each bone's parent (the root: itself), ``ancestors`` [B, B] is 1 where column b is row c or an
    ancestor of it.

    With rest poses [R_c | h_c] and G_c = D_c R_cᵀ, the transform of bone c is [G_c | t_c] with
    t_c = t_p + (G_p − G_c) h_c and t_0 = d_0 − G_0 h_0: each t_c is a sum over the bone's ancestors, one
    matrix product for the whole skeleton (far fewer autograd steps than one product per depth level)."""
    rotation, head = rest[..., :3, :3], rest[..., :3, 3]
    G = orientation @ rotation.transpose(-1, -2)
    steps = ((G[..., parent, :, :] - G) @ head[..., None])[..., 0]  # [..., B, 3]; the root's is 0
    first = torch.zeros(steps.shape[-2], 1, dtype=steps.dtype)
    first[0] = 1.0
    steps = steps + first * (root - (G[..., 0, :, :] @ head[..., 0, :, None])[..., 0])[..., None, :]
    t = ancestors @ steps
    bottom = torch.zeros(*G.shape[:-2], 1, 4, dtype=G.dtype)
    bottom[..., 3] = 1.0
    transforms = torch.cat([torch.cat([G, t[..., None]], -1), bottom], -2)
    heads = (G @ head[..., None])[..., 0] + t  # posed bone heads
    return transforms, torch.cat([torch.cat([orientation, heads[..., None]], -1), bottom], -2)


class AnnyBody(BodyModel):
    """anny's full body (13,718 vertices, 104 bones, 6 phenotype shape parameters in [0, 1])."""

    name = "anny"

    def __init__(self, data_path: str | None = None) -> None:
        import anny

        data = load_model_data(data_path or resource_path("body", "anny.npz"))
        self._anny = anny.Anny.from_model_data(
            data, skinning_method="lbs", pose_parameterization="world-orient",
            bone_orientation="cached", root_identity_orientation=False,
        )
        labels = list(self._anny.bone_labels)
        self.bone_names = tuple(labels)
        self.joint_bones = dict(JOINT_TO_BONE)
        self.bone_parents = tuple(int(p) for p in data.metadata.bone_parents)
        self.shape_parameters = tuple(
            ShapeParameter(label, 0.0, 1.0, 0.5, f"anny phenotype '{label}' (0–1)")
            for label in self._anny.phenotype_labels
        )
        self.faces = data.faces.long()
        self.uvs = data.texture_coordinates
        self.uv_faces = data.face_texture_coordinate_indices
        self.skin_indices = data.vertex_bone_indices.long()
        self.skin_weights = data.vertex_bone_weights.float()
        index = {label: i for i, label in enumerate(labels)}
        # which vocabulary joint drives each bone (unmapped bones: their parent's)
        driver = [-1] * len(labels)
        for joint, bone in JOINT_TO_BONE.items():
            driver[index[bone]] = JOINT_INDEX[joint]
        for bone, joint in _ALSO_DRIVEN.items():
            driver[index[bone]] = JOINT_INDEX[joint]
        for i, parent in enumerate(self.bone_parents):  # parents precede children in anny's order
            if driver[i] < 0:
                driver[i] = driver[parent]
        self._driver = torch.tensor(driver)
        self._parent = torch.tensor([max(p, 0) for p in self.bone_parents])  # the root: itself
        self._ancestors = torch.zeros(len(labels), len(labels))  # [c, b] 1 where b is c or above it
        for bone, parent in enumerate(self.bone_parents):
            if parent >= 0:
                self._ancestors[bone] = self._ancestors[parent]
            self._ancestors[bone, bone] = 1.0
        self._keypoints: tuple[torch.Tensor, torch.Tensor] | None = None
        self._rest_cache: tuple[bytes, dict[str, torch.Tensor]] | None = None
        self._vocab_bones = torch.tensor([index[JOINT_TO_BONE.get(j, "head")] for j in JOINT_NAMES])
        self._aligned = [(index[b], index[e], sign) for b, e, sign in _ARM_ALIGNMENT]
        # bones below an aligned bone inherit its alignment (fingers and metacarpals follow the wrist)
        self._alignment_source = list(range(len(labels)))
        aligned = {i for i, _, _ in self._aligned}
        for i, parent in enumerate(self.bone_parents):
            if i not in aligned and parent >= 0:
                self._alignment_source[i] = self._alignment_source[parent]

    # ---------------------------------------------------------------- helpers
    def _rest_anny(self, shape: torch.Tensor) -> dict[str, torch.Tensor]:
        shape = self.check_shape(shape)
        kwargs = {label: shape[:, i] for i, label in enumerate(self._anny.phenotype_labels)}
        coeffs = self._anny._get_phenotype_blendshape_coefficients(
            *self._anny.get_tensor_inputs(None, kwargs, None, None)[1:]
        )
        return self._anny.get_rest_model(coeffs)

    @staticmethod
    def _to_ours(points: torch.Tensor) -> torch.Tensor:
        return points @ FRAME.to(points).T

    def rest(self, shape: torch.Tensor) -> RestBody:
        """The body in anny's rest pose (A-pose)."""
        rest = self._rest_anny(shape)
        heads = rest["rest_bone_poses"][..., :3, 3]
        return RestBody(self._to_ours(rest["rest_vertices"]), self._to_ours(heads[:, self._vocab_bones]))

    def _alignments(self, rest_poses: torch.Tensor) -> torch.Tensor:
        """World rotations [B, K, 3, 3] (anny frame) turning each bone from the A- to the T-pose."""
        batch, count = rest_poses.shape[:2]
        heads = rest_poses[..., :3, 3]
        eye = torch.eye(3, dtype=rest_poses.dtype).expand(batch, 3, 3)
        own = {}
        for bone, end, sign in self._aligned:
            target = torch.tensor([sign, 0.0, 0.0], dtype=rest_poses.dtype).expand(batch, 3)
            own[bone] = rotation_between(heads[:, end] - heads[:, bone], target)
        return torch.stack([own.get(self._alignment_source[i], eye) for i in range(count)], dim=1)

    def shape_state(self, shape: torch.Tensor) -> dict[str, torch.Tensor]:
        """anny's rest vertices [B, V, 3] and bone poses [B, K, 4, 4] and the A→T alignments
        [B, K, 3, 3] (anny's frame) for ``shape`` [B, S]; cached for a repeated constant shape (animation),
        recomputed (and differentiable) when ``shape`` requires grad."""
        shape = self.check_shape(shape)
        key = None if shape.requires_grad else shape.detach().numpy().tobytes()
        if key is not None and self._rest_cache is not None and self._rest_cache[0] == key:
            return self._rest_cache[1]
        rest = self._rest_anny(shape)
        state = {"vertices": rest["rest_vertices"], "bone_poses": rest["rest_bone_poses"],
                 "alignments": self._alignments(rest["rest_bone_poses"])}
        if key is not None:
            self._rest_cache = (key, state)
        return state

    def rest_bones(self, shape: torch.Tensor) -> torch.Tensor:
        frame4 = torch.eye(4)
        frame4[:3, :3] = FRAME
        with torch.no_grad():
            poses = self.shape_state(shape)["bone_poses"][0]
        return frame4 @ poses @ frame4.T

    def keypoint_regressor(self) -> tuple[torch.Tensor, torch.Tensor]:
        """anny's own COCO-23 vertex regressor (``anny/data/keypoints/coco.pth``, shipped in its wheel)."""
        if self._keypoints is None:
            import anny

            table = torch.load(Path(anny.__file__).parent / "data" / "keypoints" / "coco.pth", weights_only=True)
            dense = torch.stack([table[name][self._anny.base_mesh_vertex_indices] for name in KEYPOINT_NAMES]).float()
            self._keypoints = sparse_rows(dense, 64)  # within 0.2 mm of the full regression
        return self._keypoints

    def posed(self, state: dict[str, torch.Tensor], pose: torch.Tensor, root: torch.Tensor | None = None,
              vertex_ids: torch.Tensor | None = None) -> BodyOutput:
        rest_poses, alignments = state["bone_poses"], state["alignments"]
        pose = torch.as_tensor(pose, dtype=rest_poses.dtype)
        if pose.ndim == 2:
            pose = pose[None]
        batch = max(pose.shape[0], rest_poses.shape[0])
        rest_poses = rest_poses.expand(batch, -1, -1, -1)
        frame = FRAME.to(rest_poses)
        # the vocabulary joints' world rotations in anny's frame: Fᵀ R(v) F = R(Fᵀ v) for the rotation F
        world = global_rotations(pose @ frame)
        orientation = world[:, self._driver] @ alignments @ rest_poses[..., :3, :3]
        translation = rest_poses[:, 0, :3, 3]
        if root is not None:
            translation = translation + torch.as_tensor(root, dtype=rest_poses.dtype) @ frame
        transforms, poses = world_orient_transforms(orientation, translation, rest_poses, self._parent,
                                                    self._ancestors.to(rest_poses.dtype))
        points, indices, weights = state["vertices"][0], self.skin_indices, self.skin_weights
        if vertex_ids is not None:
            points, indices, weights = points[vertex_ids], indices[vertex_ids], weights[vertex_ids]
        vertices = skin_points(points, indices, weights, transforms)
        frame4 = torch.eye(4, dtype=rest_poses.dtype)
        frame4[:3, :3] = frame
        return BodyOutput(
            vertices=self._to_ours(vertices),
            joints=self._to_ours(poses[:, self._vocab_bones, :3, 3]),
            transforms=frame4 @ transforms @ frame4.T,
        )
