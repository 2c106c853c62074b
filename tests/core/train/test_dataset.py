import json

import numpy as np
import pytest
import torch

from core.recon.query import QueryPoints, query_points
from core.train.dataset import DatasetError, generate, load_split, make_subject


@pytest.fixture(scope="module")
def query(anny_body):
    return query_points(anny_body, count=800, anchors=48)


def test_query_points_mirror_and_anchor(anny_body, query):
    from core.body.model import canonical_body
    from core.body.surface import surface_points

    canonical, _ = canonical_body(anny_body, anny_body.default_shape()[0].numpy())
    positions, _ = surface_points(anny_body, canonical, query.triangles, query.barycentric)
    reflected = positions * torch.tensor([-1.0, 1.0, 1.0])
    gap = (positions[query.mirror] - reflected).norm(dim=1)
    assert float(gap.median()) < 0.03  # each point's partner sits where its mirror image is
    centre = torch.zeros(16).index_add_(0, query.parts, positions[:, 2]) / torch.bincount(query.parts, minlength=16)
    front = positions[:, 2] > centre[query.parts] + 0.02  # clearly on the front of its body part
    assert (positions[query.opposite[front], 2] < positions[front, 2]).float().mean() > 0.95  # partners lie behind
    assert query.triangles.shape == (800,) and query.anchors.shape == (48,)
    assert query.neighbours.shape == (800, 3) and np.allclose(query.weights.sum(1), 1)
    assert len(set(query.parts.tolist())) == 16


def test_subjects_are_deterministic_and_consistent(anny_body, query):
    a = make_subject(anny_body, query, np.random.default_rng(3), size=64, splats=8000)
    b = make_subject(anny_body, query, np.random.default_rng(3), size=64, splats=8000)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert a["image"].shape == (64, 64, 3) and a["albedo"].shape == (800, 3)
    assert 0.2 < a["visible"].mean() < 0.6  # about the front half is seen
    uv = a["uv"][a["visible"] > 0].astype(int)
    assert (a["mask"][uv[:, 1], uv[:, 0]] > 127).mean() > 0.95  # seen points land on the person
    # seen as at run time (a z-buffer of the bare body, 3 cm deep): the back of a hand counts as seen
    assert (a["facing"][a["visible"] > 0].astype(float) > -0.2).mean() > 0.9


def test_generate_and_load(tmp_path, anny_body):
    folder = generate(tmp_path / "data", anny_body, train=3, heldout=2, size=48, points=300, shard_size=2)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["splits"] == {"train": 3, "heldout": 2}
    assert sorted(p.name for p in folder.iterdir()) == ["heldout-0000.npz", "manifest.json", "query.npz",
                                                        "train-0000.npz", "train-0001.npz"]
    _, query, train = load_split(folder, "train")
    _, _, heldout = load_split(folder, "heldout")
    assert train["image"].shape == (3, 48, 48, 3) and heldout["albedo"].shape == (2, 300, 3)
    assert isinstance(query, QueryPoints) and list(train["seed"]) == [0, 1, 2]
    assert not np.array_equal(train["image"][0], heldout["image"][0])  # held-out people are other people
    assert not list(folder.glob(".*tmp*"))


def test_bad_folders_are_reported(tmp_path):
    with pytest.raises(DatasetError, match="not a synthetic dataset"):
        load_split(tmp_path, "train")
    (tmp_path / "manifest.json").write_text('{"format": "something-else"}')
    with pytest.raises(DatasetError, match="version-2 Avatarium synthetic dataset"):
        load_split(tmp_path, "train")
