"""Corrupted avatar bundles and fit files: a result or the one documented error, nothing else."""

import io
import json
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.avatar.avatar import Avatar
from core.avatar.binding import Binding
from core.fit.result import BodyFit, FitFileError
from core.gaussians import GaussianCloud
from core.persist.bundle import BundleError, load_bundle, save_bundle


@pytest.fixture(scope="module")
def bundle_bytes(tmp_path_factory) -> bytes:
    count = 6
    cloud = GaussianCloud(torch.randn(count, 3), torch.tensor([1.0, 0, 0, 0]).repeat(count, 1),
                          torch.full((count, 3), -4.0), torch.zeros(count), torch.zeros(count, 1, 3))
    binding = Binding(torch.arange(count), torch.full((count, 3), 1 / 3), torch.zeros(count, 2, dtype=torch.long),
                      torch.tensor([[1.0, 0.0]]).repeat(count, 1), (-1, 0))
    fit = BodyFit(body_model="anny", shape=np.full(6, 0.5), pose=np.zeros((55, 3)), root=np.zeros(3), K=np.eye(3),
                  image_size=(10, 10))
    path = tmp_path_factory.mktemp("bundle") / "a.avatar"
    save_bundle(path, Avatar(cloud, binding, "anny", np.full(6, 0.5, np.float32)), fit, np.zeros((8, 8, 3), np.uint8))
    return path.read_bytes()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_bundles_give_a_bundle_or_bundle_error(tmp_path, bundle_bytes, data):
    raw = bytearray(bundle_bytes)
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "fuzz.avatar"
    path.write_bytes(bytes(raw[: data.draw(st.integers(0, len(raw)))]))
    try:
        bundle = load_bundle(path)
    except BundleError:
        return
    assert len(bundle.avatar.cloud) == len(bundle.avatar.binding)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_bundle_members_give_a_bundle_or_bundle_error(tmp_path, bundle_bytes, data):
    """Valid ZIP, damaged contents (what a crash mid-edit or another tool could leave)."""
    source = zipfile.ZipFile(io.BytesIO(bundle_bytes))
    victim = data.draw(st.sampled_from(source.namelist()))
    path = tmp_path / "members.avatar"
    with zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            content = bytearray(source.read(name))
            if name == victim and content:
                for _ in range(data.draw(st.integers(1, 4))):
                    content[data.draw(st.integers(0, len(content) - 1))] = data.draw(st.integers(0, 255))
                content = content[: data.draw(st.integers(0, len(content)))]
            target.writestr(name, bytes(content))
    try:
        load_bundle(path)
    except BundleError:
        pass


@settings(max_examples=150, deadline=None)
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                          lambda children: st.lists(children, max_size=4)
                          | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=20),
       key=st.sampled_from(["pose", "shape", "root", "K", "image_size", "pins", "keypoint_residuals", "version"]))
def test_fit_json_with_any_value_gives_a_fit_or_fit_file_error(value, key):
    data = BodyFit(body_model="anny", shape=np.zeros(6), pose=np.zeros((55, 3)), root=np.zeros(3), K=np.eye(3),
                   image_size=(4, 4)).to_dict()
    data[key] = value
    try:
        BodyFit.from_dict(json.loads(json.dumps(data)), "fuzz.json")
    except FitFileError:
        pass
