import os
from pathlib import Path

import numpy as np
import plyfile
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.gaussians import GaussianCloud
from core.io import atomic
from core.io.ply import PlyError, encode_ply, ply_property_names, read_ply, write_ply


def make_cloud(n: int = 40, degree: int = 3, seed: int = 0) -> GaussianCloud:
    g = torch.Generator().manual_seed(seed)
    k = (degree + 1) ** 2
    return GaussianCloud(
        means=torch.randn(n, 3, generator=g),
        quats=torch.randn(n, 4, generator=g),
        log_scales=torch.randn(n, 3, generator=g) - 4,
        opacity_logits=torch.randn(n, generator=g),
        sh=torch.randn(n, k, 3, generator=g),
    )


def assert_same(a: GaussianCloud, b: GaussianCloud) -> None:
    for name in ("means", "quats", "log_scales", "opacity_logits", "sh"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name


def inria_vertices(cloud: GaussianCloud, dtype: str = "f4", normals: bool = True, extra: bool = False):
    """A 3DGS vertex array built independently with numpy, the way the INRIA code writes it."""
    n, k = len(cloud), cloud.sh.shape[1]
    names = ["x", "y", "z"] + (["nx", "ny", "nz"] if normals else []) + ["f_dc_0", "f_dc_1", "f_dc_2"]
    names += [f"f_rest_{i}" for i in range(3 * (k - 1))] + ["opacity", "scale_0", "scale_1", "scale_2"]
    names += ["rot_0", "rot_1", "rot_2", "rot_3"] + (["confidence"] if extra else [])
    data = np.zeros(n, dtype=[(name, dtype) for name in names])
    for i, axis in enumerate("xyz"):
        data[axis] = cloud.means[:, i]
    for c in range(3):
        data[f"f_dc_{c}"] = cloud.sh[:, 0, c]
        for j in range(k - 1):  # f_rest is channel-major
            data[f"f_rest_{c * (k - 1) + j}"] = cloud.sh[:, j + 1, c]
    data["opacity"] = cloud.opacity_logits
    for i in range(3):
        data[f"scale_{i}"] = cloud.log_scales[:, i]
    for i in range(4):
        data[f"rot_{i}"] = cloud.quats[:, i]
    return data


def test_written_layout_read_by_plyfile(tmp_path):
    cloud = make_cloud(degree=3)
    path = tmp_path / "out.ply"
    write_ply(path, cloud)
    ply = plyfile.PlyData.read(str(path))
    assert not ply.text and ply.byte_order == "<"
    vertex = ply["vertex"]
    assert [p.name for p in vertex.properties] == ply_property_names(3)
    assert len(ply_property_names(3)) == 62
    assert all(vertex.data.dtype[p.name] == np.dtype("<f4") for p in vertex.properties)
    expected = inria_vertices(cloud)
    for name in expected.dtype.names:
        assert np.array_equal(vertex[name], expected[name]), name
    assert np.all(vertex["nx"] == 0)
    # activations: what viewers compute from the stored values
    assert np.allclose(1 / (1 + np.exp(-vertex["opacity"])), cloud.opacities().numpy())
    assert np.allclose(np.exp(vertex["scale_1"]), cloud.scales()[:, 1].numpy())
    assert np.allclose(0.5 + 0.28209479 * vertex["f_dc_2"], 0.5 + 0.28209479 * cloud.sh[:, 0, 2].numpy())


@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_round_trip_is_exact(tmp_path, degree):
    cloud = make_cloud(degree=degree, seed=degree)
    write_ply(tmp_path / "a.ply", cloud)
    assert_same(read_ply(tmp_path / "a.ply"), cloud)


def test_reads_inria_file_written_by_plyfile(tmp_path):
    cloud = make_cloud(degree=3)
    path = tmp_path / "inria.ply"
    plyfile.PlyData([plyfile.PlyElement.describe(inria_vertices(cloud), "vertex")]).write(str(path))
    assert_same(read_ply(path), cloud)


@pytest.mark.parametrize(
    "text,byte_order,dtype,normals,extra",
    [
        (True, "=", "f4", True, False),  # ascii
        (False, ">", "f4", True, False),  # big-endian
        (False, "<", "f8", False, True),  # doubles, no normals, an extra property
    ],
)
def test_tolerant_reading(tmp_path, text, byte_order, dtype, normals, extra):
    cloud = make_cloud(n=12, degree=1)
    path = tmp_path / "variant.ply"
    vertices = inria_vertices(cloud, dtype=dtype, normals=normals, extra=extra)
    plyfile.PlyData([plyfile.PlyElement.describe(vertices, "vertex")], text=text,
                    byte_order=byte_order).write(str(path))
    read = read_ply(path)
    assert read.sh_degree == 1 and len(read) == 12
    tolerance = 1e-6 if text else 0
    for name in ("means", "quats", "log_scales", "opacity_logits", "sh"):
        assert torch.allclose(getattr(read, name), getattr(cloud, name), atol=tolerance, rtol=tolerance), name


def test_extra_elements_before_and_after_vertices(tmp_path):
    cloud = make_cloud(n=8, degree=0)
    info = np.array([(1, 2.5)], dtype=[("id", "i4"), ("value", "f8")])
    faces = np.array([([0, 1, 2],)], dtype=[("vertex_indices", "O")])
    path = tmp_path / "elements.ply"
    plyfile.PlyData([
        plyfile.PlyElement.describe(info, "info"),
        plyfile.PlyElement.describe(inria_vertices(cloud), "vertex"),
        plyfile.PlyElement.describe(faces, "face"),
    ]).write(str(path))
    assert_same(read_ply(path), cloud)


def test_unnormalised_quaternions_are_kept(tmp_path):
    cloud = make_cloud(n=5, degree=0)
    scaled = GaussianCloud(cloud.means, cloud.quats * 7.5, cloud.log_scales, cloud.opacity_logits, cloud.sh)
    write_ply(tmp_path / "q.ply", scaled)
    read = read_ply(tmp_path / "q.ply")
    assert torch.equal(read.quats, scaled.quats)
    assert torch.allclose(read.rotations(), cloud.rotations(), atol=1e-6)


def _valid_bytes(n: int = 6) -> bytes:
    return encode_ply(make_cloud(n=n, degree=0))


def _header_and_body(data: bytes) -> tuple[bytes, bytes]:
    end = data.index(b"end_header\n") + len(b"end_header\n")
    return data[:end], data[end:]


def _bad_files() -> dict[str, bytes]:
    valid = _valid_bytes()
    header, body = _header_and_body(valid)
    cloud = make_cloud(n=3, degree=0)
    nan_cloud = encode_ply(cloud)
    h, b = _header_and_body(nan_cloud)
    values = np.frombuffer(b, "<f4").copy()
    values[0] = np.nan
    zero_q = np.frombuffer(b, "<f4").copy().reshape(3, -1)
    zero_q[1, -4:] = 0
    return {
        "empty": b"",
        "not a ply": b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
        "text but not ply": b"hello world\n",
        "no end_header": header.replace(b"end_header\n", b""),
        "truncated": valid[: len(valid) - 10],
        "header lies": header.replace(b"element vertex 6", b"element vertex 60") + body,
        "zero splats": header.replace(b"element vertex 6", b"element vertex 0"),
        "negative count": header.replace(b"element vertex 6", b"element vertex -1") + body,
        "no vertex element": header.replace(b"element vertex", b"element face") + body,
        "point cloud": b"ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
                       b"property float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n"
                       b"end_header\n0 0 0 255 0 0\n",
        "bad format": header.replace(b"binary_little_endian", b"binary_middle_endian") + body,
        "bad type": header.replace(b"property float x", b"property quad x") + body,
        "nan": h + values.tobytes(),
        "zero quaternion": h + zero_q.tobytes(),
        "bad f_rest count": header.replace(b"property float opacity",
                                           b"property float f_rest_0\nproperty float opacity")
        + body + b"\0" * 24,
        "ascii words": b"ply\nformat ascii 1.0\nelement vertex 1\n"
        + b"".join(f"property float {p}\n".encode() for p in ply_property_names(0))
        + b"end_header\n" + b"a " * 17 + b"\n",
        "ascii short": b"ply\nformat ascii 1.0\nelement vertex 2\n"
        + b"".join(f"property float {p}\n".encode() for p in ply_property_names(0))
        + b"end_header\n" + b"1 " * 17 + b"\n",
        "duplicate property": header.replace(b"property float y\n", b"property float x\n") + body,
        "garbage header line": header.replace(b"comment", b"bogus") + body,
    }


@pytest.mark.parametrize("case", sorted(_bad_files()))
def test_bad_files_raise_one_typed_error(tmp_path, case):
    path = tmp_path / "bad.ply"
    path.write_bytes(_bad_files()[case])
    with pytest.raises(PlyError) as info:
        read_ply(path)
    message = str(info.value)
    assert "bad.ply" in message and "Traceback" not in message and len(message) < 400


def test_missing_file_folder_and_limit(tmp_path):
    with pytest.raises(PlyError, match="does not exist"):
        read_ply(tmp_path / "nope.ply")
    with pytest.raises(PlyError, match="folder"):
        read_ply(tmp_path)
    (tmp_path / "ok.ply").write_bytes(_valid_bytes(6))
    with pytest.raises(PlyError, match="limit of 5"):
        read_ply(tmp_path / "ok.ply", max_splats=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_files_give_cloud_or_ply_error(tmp_path, data):
    """Any corruption of a valid file yields a valid cloud or a PlyError, nothing else."""
    raw = bytearray(_valid_bytes(4))
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    path = tmp_path / "fuzz.ply"
    path.write_bytes(bytes(raw[:cut]))
    try:
        cloud = read_ply(path)
    except PlyError:
        return
    assert torch.isfinite(cloud.means).all() and len(cloud) > 0


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "keep.ply"
    write_ply(path, make_cloud(n=5, degree=0))
    before = path.read_bytes()

    real_open = open

    class FullDisk:
        def __init__(self, stream):
            self.stream = stream

        def write(self, data):
            self.stream.write(data[:10])
            raise OSError(28, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.stream, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

    monkeypatch.setattr(atomic, "open", lambda p, mode: FullDisk(real_open(p, mode)), raising=False)
    with pytest.raises(OSError, match="No space"):
        write_ply(path, make_cloud(n=50, degree=3))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.ply"]


def test_write_refuses_empty_and_folder(tmp_path):
    empty = make_cloud(n=4).subset(slice(0, 0))
    with pytest.raises(PlyError, match="0 splats"):
        write_ply(tmp_path / "e.ply", empty)
    with pytest.raises(IsADirectoryError):
        write_ply(Path(tmp_path), make_cloud(n=2))


def test_damaged_numbers_never_reach_a_file(tmp_path, example_cloud):
    """A cloud damaged after it was built (NaN from a diverged optimisation, a zeroed rotation) is
    refused on write, with how many splats are bad, and the old file stays."""
    target = tmp_path / "keep.ply"
    write_ply(target, example_cloud)
    before = target.read_bytes()

    def copy():
        c = example_cloud
        return GaussianCloud(c.means.clone(), c.quats.clone(), c.log_scales.clone(), c.opacity_logits.clone(),
                             c.sh.clone())

    broken = copy()
    broken.means[:7, 1] = float("nan")  # in place, after validation
    with pytest.raises(PlyError, match="7 of 3000 splats have NaN"):
        write_ply(target, broken)
    broken = copy()
    broken.quats[:3] = 0.0
    with pytest.raises(PlyError, match="3 of 3000 splats have an all-zero rotation"):
        write_ply(target, broken)
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["keep.ply"]
