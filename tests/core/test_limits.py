"""Size limits: each is checked before allocating, says the limit and how to change it."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.limits import LIMITS, limit


def test_environment_variables_change_the_limits(monkeypatch):
    for name, (variable, default, _) in LIMITS.items():
        monkeypatch.delenv(variable, raising=False)
        assert limit(name) == default
        monkeypatch.setenv(variable, "1_000")
        assert limit(name) == 1000
    monkeypatch.setenv("AVATARIUM_MAX_SPLATS", "lots")
    with pytest.raises(ValueError, match="AVATARIUM_MAX_SPLATS"):
        limit("splats")


def test_image_pixels(tmp_path, monkeypatch):
    from core.io.images import ImageLoadError, load_image

    Image.new("RGB", (40, 30)).save(tmp_path / "small.png")
    monkeypatch.setenv("AVATARIUM_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(ImageLoadError, match="AVATARIUM_MAX_IMAGE_PIXELS"):
        load_image(tmp_path / "small.png")
    monkeypatch.setenv("AVATARIUM_MAX_IMAGE_PIXELS", "1200")
    assert load_image(tmp_path / "small.png").size == (40, 30)


def test_splats(tmp_path, monkeypatch, example_cloud):
    from core.io.ply import PlyError, read_ply, write_ply

    write_ply(tmp_path / "f.ply", example_cloud)
    monkeypatch.setenv("AVATARIUM_MAX_SPLATS", str(len(example_cloud) - 1))
    with pytest.raises(PlyError, match="AVATARIUM_MAX_SPLATS"):
        read_ply(tmp_path / "f.ply")


def test_motion_frames_are_checked_from_the_header_before_loading(tmp_path, monkeypatch):
    from core.body.motion_files import MotionError, load_amass

    # a file that declares a billion frames (160 GB of poses) but holds a few bytes: refused from the header
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, shape in (("poses", (10**9, 165)), ("trans", (10**9, 3))):
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
            archive.writestr(f"{key}.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\0" * 64)
        rate = io.BytesIO()
        np.save(rate, np.array(30.0))
        archive.writestr("mocap_framerate.npy", rate.getvalue())
    with pytest.raises(MotionError, match="1,000,000,000 frames.*AVATARIUM_MAX_MOTION_FRAMES"):
        load_amass(path)


def test_json_motion_frames_and_frame_size(tmp_path, monkeypatch):
    from core.body.motion_files import MotionError, load_smplx_json_folder

    for i in range(3):
        (tmp_path / f"{i:04d}.json").write_text('{"body_pose": ' + str([[0, 0, 0]] * 21) + "}")
    monkeypatch.setenv("AVATARIUM_MAX_MOTION_FRAMES", "2")
    with pytest.raises(MotionError, match="AVATARIUM_MAX_MOTION_FRAMES"):
        load_smplx_json_folder(tmp_path)
    monkeypatch.delenv("AVATARIUM_MAX_MOTION_FRAMES")
    assert len(load_smplx_json_folder(tmp_path)) == 3
    (tmp_path / "0001.json").write_text('{"body_pose": [' + "0," * 600_000 + "0]}")
    with pytest.raises(MotionError, match="too big for one SMPL-X frame"):
        load_smplx_json_folder(tmp_path)


def test_bundle_bytes(tmp_path, monkeypatch, anny_body):
    from core.avatar.avatar import Avatar
    from core.avatar.body_splats import body_splats
    from core.persist.bundle import BundleError, load_bundle, save_bundle

    cloud, binding = body_splats(anny_body, anny_body.default_shape(), 300, seed=0)
    path = save_bundle(tmp_path / "a.avatar", Avatar(cloud, binding, "anny", anny_body.default_shape()[0].numpy()))
    monkeypatch.setenv("AVATARIUM_MAX_BUNDLE_BYTES", "1000")
    with pytest.raises(BundleError, match="AVATARIUM_MAX_BUNDLE_BYTES"):
        load_bundle(path)
