import gzip
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from core.gaussians import GaussianCloud
from core.io.ply import write_ply
from core.io.spz import SpzError, decode_spz, encode_spz, read_spz, write_spz

SPLAT_TRANSFORM = Path(__file__).resolve().parents[3] / ".tools" / "node_modules" / ".bin" / "splat-transform"


def _cloud(n: int = 500, degree: int = 0, seed: int = 0) -> GaussianCloud:
    """Random splats in a person's range; unit quaternions whose largest component is w > 0 (q and −q
    are one rotation: .spz keeps the largest component positive, so both files agree on the sign)."""
    generator = torch.Generator().manual_seed(seed)
    axes = 0.4 * torch.randn(n, 3, generator=generator).clamp(-1.5, 1.5)
    quats = torch.nn.functional.normalize(torch.cat([torch.ones(n, 1), axes], 1), dim=1)
    centre = torch.tensor([0.1, 0.9, 0.2])  # a person standing at the origin, off every axis
    return GaussianCloud(centre + 0.5 * torch.randn(n, 3, generator=generator), quats,
                         torch.randn(n, 3, generator=generator) * 0.5 - 5, torch.randn(n, generator=generator),
                         0.25 * torch.randn(n, (degree + 1) ** 2, 3, generator=generator))


@pytest.mark.parametrize("degree", [0, 1, 3])
def test_spz_round_trips_within_its_quantisation(tmp_path, degree):
    cloud = _cloud(degree=degree)
    back = read_spz(write_spz(tmp_path / "a.spz", cloud))
    assert back.sh.shape == cloud.sh.shape
    assert float((back.means - cloud.means).abs().max()) <= 0.5 / 4096 + 1e-6
    assert float((back.log_scales - cloud.log_scales).abs().max()) <= 0.5 / 16 + 1e-5
    assert float((back.opacities() - cloud.opacities()).abs().max()) <= 1.5 / 255 + 1e-5  # 255 kept for ∞
    assert float((back.sh[:, 0] - cloud.sh[:, 0]).abs().max()) <= 0.5 / (0.15 * 255) + 1e-5
    assert float((1 - (back.quats * cloud.quats).sum(1).abs()).max()) < 1e-4  # same rotation
    if degree:  # 4–5 bits of [-1, 1): what lies beyond is clipped
        inside = cloud.sh[:, 1:].abs() < 0.95
        assert float((back.sh[:, 1:] - cloud.sh[:, 1:]).abs()[inside].max()) <= 16 / 128 / 2 + 1 / 128 + 1e-5


def test_bad_spz_files_say_what_is_wrong(tmp_path):
    good = encode_spz(_cloud(20))
    with pytest.raises(SpzError, match="not a gzip stream"):
        decode_spz(b"hello", "x.spz")
    with pytest.raises(SpzError, match="truncated or damaged"):
        decode_spz(gzip.compress(gzip.decompress(good)[:-7]), "x.spz")
    with pytest.raises(SpzError, match="version 4"):
        decode_spz(b"NGSP" + bytes(28), "x.spz")
    with pytest.raises(SpzError, match="magic"):
        decode_spz(gzip.compress(b"\0" * 16 + gzip.decompress(good)[16:]), "x.spz")
    with pytest.raises(ValueError, match=r"\.spz"):
        write_spz(tmp_path / "a.ply", _cloud(5))


def _summary(path: Path) -> dict[str, float]:
    """Column means printed by splat-transform's per-column statistics."""
    out = subprocess.run([str(SPLAT_TRANSFORM), str(path), "-m", "null"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    return {cells[1].strip(): float(cells[5]) for cells in rows if cells[1].strip() != "Column"}


@pytest.mark.skipif(not SPLAT_TRANSFORM.exists() or shutil.which("node") is None,
                    reason="needs npm's @playcanvas/splat-transform in .tools/ (bash .ci/setup test installs it)")
def test_splat_transform_reads_our_spz_as_our_ply(tmp_path):
    """An independent reader (PlayCanvas's splat-transform) sees the same splats in our .spz and our
    .ply: every column's mean within 1e-3 (positions, scales, colours, opacities, rotations)."""
    cloud = _cloud(3000, degree=0, seed=1)
    write_ply(tmp_path / "a.ply", cloud)
    write_spz(tmp_path / "a.spz", cloud)
    ply, spz = _summary(tmp_path / "a.ply"), _summary(tmp_path / "a.spz")
    assert set(ply) - {"nx", "ny", "nz"} == set(spz)  # our .ply carries zero normals
    assert {"x", "y", "z", "scale_0", "f_dc_0", "opacity", "rot_0", "rot_3"} <= set(spz)
    for column in spz:
        assert spz[column] == pytest.approx(ply[column], abs=1e-3), column
    assert np.isfinite(list(spz.values())).all()
    opaque = GaussianCloud(cloud.means[:5], cloud.quats[:5], cloud.log_scales[:5], torch.full((5,), 12.0),
                           cloud.sh[:5])  # opacity 0.999994: stored as 254/255, not as an infinite logit
    write_spz(tmp_path / "b.spz", opaque)
    out = subprocess.run([str(SPLAT_TRANSFORM), str(tmp_path / "b.spz"), "-m", "null"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert [line.split("|")[8].strip() for line in out.splitlines() if line.startswith("| opacity")] == ["0"]


def test_spz_is_a_fifth_of_the_ply_and_renders_the_same():
    """The bundled example figure (12k splats): .spz at most a fifth of the .ply's bytes, and its render
    within 40 dB PSNR of the .ply's inside the figure (a 40k avatar measured 50.5–51.5 dB, 17 %)."""
    from core.examples import figure_cloud
    from core.io.ply import encode_ply
    from core.render.offline import framed_camera, render_image

    cloud = figure_cloud()
    data = encode_spz(cloud)
    assert len(data) <= len(encode_ply(cloud)) / 5
    back = decode_spz(data)
    for azimuth in (0.0, 120.0):
        camera = framed_camera(cloud, azimuth, 5.0)
        truth, ours = (render_image(c, camera, 256).astype(float) for c in (cloud, back))
        inside = (truth != truth[0, 0]).any(-1)
        assert -10 * np.log10(((truth - ours)[inside] ** 2).mean() / 255**2) >= 40.0
