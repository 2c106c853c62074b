import json

import numpy as np
import pytest
import torch

from core.fit.result import BodyFit
from core.recon.infer import Reconstructor, person_inputs, visible_points
from core.recon.loading import ModelError
from core.recon.query import query_points
from core.train.synthetic import render_person


def test_visible_points_z_buffer():
    surface = torch.tensor([[1.5, 1.5], [2.5, 2.5]])
    depth = torch.tensor([1.0, 2.0])
    points = torch.tensor([[1.2, 1.7], [1.5, 1.5], [2.5, 2.5], [3.5, 3.5], [-1.0, 0.0]])
    seen = visible_points(points, torch.tensor([1.01, 1.5, 2.0, 1.0, 1.0]), surface, depth, size=4)
    assert seen.tolist() == [True, False, True, True, False]  # seen, behind, on it, nothing in front, outside


def test_person_inputs_match_the_photo(anny_body):
    from fit_helpers import exact_observation

    person = render_person(anny_body, np.random.default_rng(4), size=256, splats=20000)
    fit = BodyFit(body_model="anny", shape=person.shape, pose=person.pose, root=person.root, K=person.K,
                  image_size=(256, 256), viewmat=person.viewmat)
    query = query_points(anny_body, count=1000, anchors=32)
    inputs = person_inputs(anny_body, query, fit, person.rgb, exact_observation(anny_body, person), size=96)
    t = inputs.tensors
    assert t["image"].shape == (1, 3, 96, 96) and t["uv"].shape == (1, 1000, 2)
    seen = t["visible"][0] > 0
    assert 0.25 < float(seen.float().mean()) < 0.6
    uv = t["uv"][0, seen].long().clamp(0, 95)
    assert float((t["mask"][0, 0][uv[:, 1], uv[:, 0]] > 0.5).float().mean()) > 0.9  # seen points land on the person
    assert float((t["facing"][0, seen] > -0.1).float().mean()) > 0.9  # (grazing points at the outline aside)


def test_reconstructor_loads_a_trained_folder(tmp_path, anny_body, tiny_model):
    import shutil

    model = shutil.copytree(tiny_model[0], tmp_path / "model")
    reconstructor = Reconstructor(model, anny_body)
    assert reconstructor.model.config.dim == 16 and len(reconstructor.query.triangles) == 300
    assert json.loads((model / "checkpoint.json").read_text())["step"] == 2
    (model / "query.npz").unlink()
    with pytest.raises(ModelError, match="no query.npz"):
        Reconstructor(model, anny_body)
