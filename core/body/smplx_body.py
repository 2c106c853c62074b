"""SMPL-X as a :class:`BodyModel`, from the user's own licence-gated ``SMPLX_*.npz`` (never bundled).

The file is read key by key with ``allow_pickle=False``: the released files also hold pickled
object arrays (``joint2num``, ``part2num``) that we never touch, and a file whose numeric arrays
were replaced by pickles is refused without executing anything. (The ``smplx`` package's own
loader enables pickles, so we never let it open the file: we use its LBS functions on our arrays.)
SMPL-X is Y up and faces +Z like our world frame; its rest pose is the T-pose, so the
vocabulary maps 1:1 onto its 55 joints. Hands use full joint rotations relative to the flat rest
hand (``use_pca=False, flat_hand_mean=True`` in smplx terms). Skinning transforms do not include
the pose-corrective blendshapes, which only the mesh vertices receive.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from core.body.joints import JOINT_INDEX, KEYPOINT_NAMES, NUM_JOINTS, PARENTS
from core.body.model import BodyModel, BodyOutput, RestBody, ShapeParameter, sparse_rows
from core.io.archive import DAMAGED_ARCHIVE

ENV_DIR = "AVATARIUM_SMPLX_DIR"
NUM_BETAS = 10
#: Keypoints at single SMPL-X vertices (the smplx package's ``vertex_ids["smplx"]``).
_LANDMARK_VERTICES = {
    "nose": 9120, "left_eye": 9448, "right_eye": 9929, "left_ear": 6, "right_ear": 616,
    "left_big_toe": 5770, "left_small_toe": 5780, "left_heel": 8846,
    "right_big_toe": 8463, "right_small_toe": 8474, "right_heel": 8635,
}
_REQUIRED = {
    "v_template": 2, "f": 2, "J_regressor": 2, "weights": 2, "kintree_table": 2, "shapedirs": 3, "posedirs": 3,
}


class BodyModelError(ValueError):
    """A body-model file that is missing, of the wrong kind or damaged; the message says what to do."""


def find_smplx_file(path: str | os.PathLike[str] | None = None, gender: str = "neutral") -> Path:
    """The SMPL-X .npz to use: ``path`` (a file or a folder), else ``$AVATARIUM_SMPLX_DIR``."""
    if path is None:
        path = os.environ.get(ENV_DIR)
        if not path:
            raise BodyModelError(
                "No SMPL-X model given. SMPL-X is licence-gated and not bundled: register on the SMPL-X "
                f"project website, download SMPLX_{gender.upper()}.npz and pass its folder with --smplx-dir "
                f"or the {ENV_DIR} environment variable.")
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / f"SMPLX_{gender.upper()}.npz"
    if not path.exists():
        raise BodyModelError(f"SMPL-X model file {path} not found")
    if path.suffix.lower() == ".pkl":
        raise BodyModelError(f"{path.name} is a pickle file, which Avatarium does not open (it can run code); "
                             "use the .npz release of SMPL-X")
    return path


def load_smplx_arrays(path: Path) -> dict[str, np.ndarray]:
    """The numeric arrays of an SMPL-X .npz, checked for the SMPL-X layout (no pickle is loaded)."""
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in _REQUIRED if key not in npz.files]
            if missing:
                raise BodyModelError(f"{path.name} is not an SMPL-X model: it lacks {', '.join(missing)}")
            for key in _REQUIRED:
                try:
                    arrays[key] = npz[key]
                except ValueError:
                    raise BodyModelError(f"{path.name}: '{key}' is not a numeric array (a pickled object?); "
                                         "refusing to load it") from None
    except BodyModelError:
        raise
    except DAMAGED_ARCHIVE as exc:  # np.load calls a non-zip a pickle
        raise BodyModelError(f"{path.name} is not a readable .npz file ({exc})") from None
    for key, ndim in _REQUIRED.items():
        if arrays[key].ndim != ndim or arrays[key].dtype.kind not in "fiu":
            raise BodyModelError(f"{path.name}: '{key}' has shape {arrays[key].shape} / {arrays[key].dtype}, "
                                 "which is not the SMPL-X layout")
    joints = arrays["J_regressor"].shape[0]
    vertices = arrays["v_template"].shape[0]
    if joints != NUM_JOINTS:
        kind = {24: "SMPL", 52: "SMPL+H"}.get(joints, f"a {joints}-joint model")
        raise BodyModelError(f"{path.name} is {kind}, not SMPL-X (55 joints); download the SMPL-X model")
    expected = {"v_template": (vertices, 3), "J_regressor": (NUM_JOINTS, vertices),
                "weights": (vertices, NUM_JOINTS), "kintree_table": (2, NUM_JOINTS)}
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise BodyModelError(f"{path.name}: '{key}' has shape {arrays[key].shape}, expected {shape}")
    if arrays["shapedirs"].shape[:2] != (vertices, 3) or arrays["posedirs"].shape[:2] != (vertices, 3):
        raise BodyModelError(f"{path.name}: shapedirs/posedirs do not match {vertices} vertices")
    if arrays["posedirs"].shape[2] != 9 * (NUM_JOINTS - 1):
        raise BodyModelError(f"{path.name}: posedirs has {arrays['posedirs'].shape[2]} components, expected 486")
    if arrays["f"].shape[1] != 3 or arrays["f"].min() < 0 or arrays["f"].max() >= vertices:
        raise BodyModelError(f"{path.name}: faces do not index its {vertices} vertices")
    parents = arrays["kintree_table"][0].astype(np.int64)
    parents[0] = -1
    if tuple(parents.tolist()) != PARENTS:
        raise BodyModelError(f"{path.name}: its kinematic tree is not SMPL-X's")
    finite = all(np.isfinite(arrays[key]).all() for key in _REQUIRED)
    if not finite:
        raise BodyModelError(f"{path.name} contains NaN or infinite values")
    return arrays


class SmplxBody(BodyModel):
    """SMPL-X (10 shape coefficients exposed) on the smplx package's LBS functions."""

    name = "smplx"

    def __init__(self, path: str | os.PathLike[str] | None = None, gender: str = "neutral") -> None:
        self.path = find_smplx_file(path, gender)
        arrays = load_smplx_arrays(self.path)
        f32 = torch.float32
        self.v_template = torch.as_tensor(arrays["v_template"], dtype=f32)
        betas = min(NUM_BETAS, arrays["shapedirs"].shape[2])
        self.shapedirs = torch.as_tensor(arrays["shapedirs"][:, :, :betas], dtype=f32)
        self.posedirs = torch.as_tensor(arrays["posedirs"].reshape(-1, arrays["posedirs"].shape[2]).T, dtype=f32)
        self.j_regressor = torch.as_tensor(arrays["J_regressor"], dtype=f32)
        self.lbs_weights = torch.as_tensor(arrays["weights"], dtype=f32)
        self.parents = torch.tensor(PARENTS)
        self.faces = torch.as_tensor(arrays["f"].astype(np.int64))
        self.uvs = self.uv_faces = None
        from core.body.joints import JOINT_NAMES

        self.bone_names = JOINT_NAMES
        self.joint_bones = {name: name for name in JOINT_NAMES}
        self.bone_parents = PARENTS
        self.shape_parameters = tuple(
            ShapeParameter(f"beta{i}", -3.0, 3.0, 0.0, f"SMPL-X shape coefficient {i}") for i in range(betas)
        )
        weights, indices = self.lbs_weights.topk(9, dim=1)
        self.skin_indices = indices
        self.skin_weights = weights / weights.sum(1, keepdim=True)

    def rest(self, shape: torch.Tensor) -> RestBody:
        from smplx.lbs import blend_shapes, vertices2joints

        shape = self.check_shape(shape)
        vertices = self.v_template + blend_shapes(shape, self.shapedirs)
        return RestBody(vertices, vertices2joints(self.j_regressor, vertices))

    def keypoint_regressor(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Face and foot keypoints at the smplx package's landmark vertices, limb keypoints from the
        joint regressor's rows (its top 32 weights, renormalised)."""
        dense = torch.zeros(len(KEYPOINT_NAMES), self.num_vertices)
        for row, name in enumerate(KEYPOINT_NAMES):
            if name in _LANDMARK_VERTICES:
                dense[row, _LANDMARK_VERTICES[name]] = 1.0
            else:
                dense[row] = self.j_regressor[JOINT_INDEX[name]]
        return sparse_rows(dense, 32)

    def rest_bones(self, shape: torch.Tensor) -> torch.Tensor:
        """Joint frames aligned with the world (SMPL-X's rest is the T-pose), at the rest joints."""
        with torch.no_grad():
            joints = self.rest(shape).joints[0]
        bones = torch.eye(4).repeat(len(joints), 1, 1)
        bones[:, :3, 3] = joints
        return bones

    def shape_state(self, shape: torch.Tensor) -> dict[str, torch.Tensor]:
        """Rest (T-pose) vertices [B, V, 3] and joints [B, 55, 3]: linear in the shape coefficients."""
        rest = self.rest(shape)
        return {"vertices": rest.vertices, "joints": rest.joints}

    def posed(self, state: dict[str, torch.Tensor], pose: torch.Tensor, root: torch.Tensor | None = None,
              vertex_ids: torch.Tensor | None = None) -> BodyOutput:
        from smplx.lbs import batch_rigid_transform, batch_rodrigues

        rest = RestBody(state["vertices"], state["joints"])
        pose = torch.as_tensor(pose, dtype=torch.float32)
        if pose.ndim == 2:
            pose = pose[None]
        batch = max(pose.shape[0], rest.vertices.shape[0])
        rot = batch_rodrigues(pose.expand(batch, -1, -1).reshape(-1, 3)).reshape(batch, NUM_JOINTS, 3, 3)
        eye = torch.eye(3)
        pose_offsets = ((rot[:, 1:] - eye).reshape(batch, -1) @ self.posedirs).reshape(batch, -1, 3)
        joints, transforms = batch_rigid_transform(rot, rest.joints.expand(batch, -1, -1), self.parents)
        if root is not None:
            root = torch.as_tensor(root, dtype=torch.float32).expand(batch, 3)
            joints = joints + root[:, None]
            transforms = transforms.clone()
            transforms[..., :3, 3] = transforms[..., :3, 3] + root[:, None]
        rest_vertices, lbs_weights = rest.vertices, self.lbs_weights
        if vertex_ids is not None:
            rest_vertices, lbs_weights = rest_vertices[:, vertex_ids], lbs_weights[vertex_ids]
            pose_offsets = pose_offsets[:, vertex_ids]
        blended = torch.einsum("vj,bjmn->bvmn", lbs_weights, transforms)
        posed = rest_vertices.expand(batch, -1, -1) + pose_offsets
        vertices = (blended[..., :3, :3] @ posed[..., None])[..., 0] + blended[..., :3, 3]
        return BodyOutput(vertices=vertices, joints=joints, transforms=transforms)
