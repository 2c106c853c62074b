import json

import numpy as np
import pytest
import torch
import trimesh

from core.body.joints import JOINT_INDEX
from core.export.body import body_parameters, save_body_mesh, save_body_parameters
from core.fit.result import BodyFit
from core.recon.avatar_builder import build_avatar
from core.recon.model import Prediction
from core.recon.query import query_points


@pytest.fixture(scope="module")
def fit():
    pose = np.random.default_rng(0).normal(0, 0.2, (55, 3)).astype(np.float32)
    return BodyFit(body_model="anny", shape=np.full(6, 0.5), pose=pose, root=[0.1, 0.0, -3.0], K=np.eye(3),
                   image_size=(100, 200))


def test_parameters_round_trip_through_npz_and_json(tmp_path, fit):
    params = body_parameters(fit)
    assert params["body_pose"].shape == (21, 3) and params["left_hand_pose"].shape == (15, 3)
    np.testing.assert_array_equal(params["left_hand_pose"][0], fit.pose[JOINT_INDEX["left_index1"]])
    np.testing.assert_array_equal(params["right_hand_pose"][-1], fit.pose[JOINT_INDEX["right_thumb3"]])
    save_body_parameters(tmp_path / "body.npz", fit)
    with np.load(tmp_path / "body.npz", allow_pickle=False) as data:
        assert bytes(data["body_model"]).decode() == "anny"
        np.testing.assert_array_equal(data["global_orient"], fit.pose[0])
        np.testing.assert_array_equal(data["transl"], fit.root)
    save_body_parameters(tmp_path / "body.json", fit)
    data = json.loads((tmp_path / "body.json").read_text())
    assert data["body_model"] == "anny" and np.allclose(data["body_pose"], fit.pose[1:22])
    with pytest.raises(ValueError, match=".npz or .json"):
        save_body_parameters(tmp_path / "body.txt", fit)


def test_mesh_is_read_back_by_trimesh_with_baked_colours(tmp_path, anny_body, fit):
    query = query_points(anny_body, count=300, anchors=8)
    count = len(query.triangles)
    upper = torch.tensor([p in (0, 1, 2) for p in query.parts.tolist()])  # head, neck, chest
    colour = torch.where(upper[:, None], torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 1.0]))
    prediction = Prediction(colour[None], torch.zeros(1, count), torch.zeros(1, count, 3),
                            torch.tensor([1.0, 0, 0, 0]).expand(1, count, 4), torch.zeros(1, count))
    avatar = build_avatar(anny_body, query, np.full(6, 0.5, np.float32), prediction, count=6000)
    path = save_body_mesh(tmp_path / "body.obj", anny_body, fit, avatar)
    mesh = trimesh.load(path, process=False)
    assert mesh.vertices.shape == (anny_body.num_vertices, 3) and len(mesh.faces) == len(anny_body.faces)
    colours = np.asarray(mesh.visual.vertex_colors)[:, :3].astype(int)
    red = (colours[:, 0] > 200) & (colours[:, 2] < 50)
    assert red.any() and (~red).any()
    assert mesh.vertices[red, 1].mean() > mesh.vertices[~red, 1].mean()  # the red upper body is on top
    assert abs(mesh.vertices[:, 2].mean() - (-3.0)) < 0.3  # posed where the fit put it
    tpose = trimesh.load(save_body_mesh(tmp_path / "t.obj", anny_body, fit, posed=False), process=False)
    assert abs(tpose.vertices[:, 2].mean()) < 0.3 and tpose.vertices[:, 0].ptp() > 1.2  # arms out
