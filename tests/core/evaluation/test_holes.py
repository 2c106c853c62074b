import json

import numpy as np
import pytest
import torch

from core.evaluation.holes import hole_scores, hole_share, interior


def _sphere(count: int, sigma_spacings: float, opacity: float = 0.99):
    """A sphere of radius 0.3 m covered by ``count`` flat discs of σ = ``sigma_spacings`` point spacings."""
    from core.body.surface import triangle_frames
    from core.gaussians import GaussianCloud
    from core.rotations import rotmat_to_quat

    golden = np.pi * (3 - np.sqrt(5))
    i = np.arange(count) + 0.5
    z = 1 - 2 * i / count
    points = np.stack([np.sqrt(1 - z ** 2) * np.cos(golden * i), z, np.sqrt(1 - z ** 2) * np.sin(golden * i)], 1)
    normal = torch.tensor(points, dtype=torch.float32)
    tangent = torch.nn.functional.normalize(torch.linalg.cross(normal, torch.tensor([[0.3, 1.0, 0.1]]).expand_as(
        normal)), dim=1)
    corners = torch.stack([torch.zeros_like(normal), tangent, torch.linalg.cross(normal, tangent)], 1)
    frames = triangle_frames(corners)
    spacing = float(np.sqrt(4 * np.pi * 0.3 ** 2 / count))
    scales = torch.tensor([sigma_spacings * spacing, sigma_spacings * spacing, 0.1 * spacing]).expand(count, 3)
    return GaussianCloud.from_activated(0.3 * normal, torch.full((count, 3), 0.5), scales.contiguous(),
                                        torch.full((count,), opacity), rotmat_to_quat(frames))


def _mesh_sphere():
    """A UV sphere mesh of radius 0.29 m (inside the discs' sphere)."""
    lat, lon = np.meshgrid(np.linspace(0, np.pi, 24), np.linspace(0, 2 * np.pi, 48, endpoint=False), indexing="ij")
    vertices = 0.29 * np.stack([np.sin(lat) * np.cos(lon), np.cos(lat), np.sin(lat) * np.sin(lon)], -1).reshape(-1, 3)
    faces = []
    for r in range(23):
        for c in range(48):
            a, b, d, e = r * 48 + c, r * 48 + (c + 1) % 48, (r + 1) * 48 + c, (r + 1) * 48 + (c + 1) % 48
            faces += [(a, d, b), (b, d, e)]
    return vertices, np.array(faces)


def test_a_closed_surface_is_solid_at_every_size_and_a_sparse_one_is_not():
    vertices, faces = _mesh_sphere()
    solid = hole_scores(_sphere(6000, 0.6), vertices, faces, sizes=(128, 512), views=4)
    sparse = hole_scores(_sphere(6000, 0.25), vertices, faces, sizes=(128, 512), views=4)
    for size in ("128", "512"):
        assert solid[size]["body_worst"] < 0.005 and solid[size]["alpha_worst"] < 0.005, solid
        assert 0 <= solid[size]["alpha_clear_mean"] <= solid[size]["alpha_mean"]
    # thin discs leave pinholes, and more of them the larger the image
    assert sparse["512"]["body_mean"] > 0.05 and sparse["512"]["body_mean"] > sparse["128"]["body_mean"]


def test_hole_share_counts_the_interior_only():
    alpha = np.ones((40, 40))
    alpha[:, :5] = 0  # outside the silhouette
    alpha[20, 20] = 0.5  # one hole
    inside = interior(alpha > 0.5, 256)
    assert not inside[20, 20] or hole_share(alpha, inside) == pytest.approx(1 / inside.sum())
    assert hole_share(alpha, interior(alpha > 0.1, 256)) == pytest.approx(1 / interior(alpha > 0.1, 256).sum())
    assert hole_share(alpha, np.zeros_like(alpha, bool)) == 0.0


@pytest.mark.slow
def test_eval_holes_command(tmp_path):
    from cli import main
    from core.resources import example_photo_path

    report, sheet = tmp_path / "holes.json", tmp_path / "sheet.png"
    assert main(["eval", "holes", str(example_photo_path()), "--preset", "fast", "--sizes", "128,384",
                 "--views", "3", "--sheet", str(sheet), "-o", str(report)]) == 0
    results = json.loads(report.read_text())
    assert results["benchmark"] == "eval-holes" and len(results["photos"]) == 1 and results["failed"] == []
    holes = results["photos"][0]["holes"]
    assert set(holes) == {"128", "384"} and all(0 <= v["body_worst"] <= 1 for v in holes.values())
    # the avatar is solid: the background shows through almost nowhere inside the body
    assert holes["384"]["body_mean"] < 0.01, holes
    from PIL import Image

    assert Image.open(sheet).size == (5 * 256, 256)  # the photo (square) and four sides


def test_a_gap_the_photo_shows_is_not_a_hole_but_a_pinhole_is():
    """Crossed legs enclose a patch of background: a wide gap, left out; a pinhole in the surface, counted."""
    size = 256
    alpha = np.zeros((size, size))
    alpha[40:220, 60:200] = 1.0
    alpha[80:180, 100:160] = 0.0  # a 60 px gap enclosed by the figure
    alpha[60, 80] = 0.3  # a pinhole
    inside = interior(alpha > 0.5, size)
    assert not inside[130, 130] and inside[60, 80]
    assert hole_share(alpha, inside) == pytest.approx(1 / inside.sum())  # the pinhole alone
    assert hole_share(alpha, interior(alpha > 0.5, size, pinholes=False)) == 0.0  # not filled: not counted
    alpha[60, 90] = 0.7  # a faint pixel: a hole, not clear through
    assert hole_share(alpha, inside) == pytest.approx(2 / inside.sum())
    assert hole_share(alpha, inside, 0.5) == pytest.approx(1 / inside.sum())
