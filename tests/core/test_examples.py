import torch

from core.examples import figure_cloud
from core.io.ply import read_ply
from core.resources import example_splat_path


def test_bundled_example_is_the_generated_figure():
    """resources/examples/figure.ply is exactly what core.examples makes (we made it, not copied it)."""
    shipped = read_ply(example_splat_path())
    made = figure_cloud()
    assert len(shipped) == len(made) == 12000
    for name in ("means", "quats", "log_scales", "opacity_logits", "sh"):
        assert torch.equal(getattr(shipped, name), getattr(made, name)), name
    assert example_splat_path().stat().st_size < 1_000_000


def test_figure_is_person_sized_and_faces_plus_z():
    cloud = figure_cloud(5000, seed=3)
    lo, hi = cloud.bounds()
    assert 1.6 < float(hi[1] - lo[1]) < 1.85 and abs(float(lo[1])) < 0.01  # feet on the floor
    eyes = cloud.base_colors().sum(1) < 0.3
    assert eyes.any() and (cloud.means[eyes, 2] > 0.05).all()
    assert torch.equal(figure_cloud(5000, seed=3).means, cloud.means)
    assert not torch.equal(figure_cloud(5000, seed=4).means, cloud.means)


def test_bundled_example_photo_is_ours_and_shows_one_person():
    import numpy as np
    from PIL import Image

    from core.detect.person import observe_person
    from core.examples import example_person_photo
    from core.io.images import load_image
    from core.resources import example_photo_path

    shipped = np.asarray(Image.open(example_photo_path()).convert("RGB")).astype(int)
    regenerated = example_person_photo().astype(int)
    assert shipped.shape == regenerated.shape == (512, 512, 3)
    assert np.abs(shipped - regenerated).mean() < 1.0  # `python -m core.examples` reproduces it
    person = observe_person(load_image(example_photo_path()))
    assert not person.half_body


def test_tiny_figures_have_exactly_the_splats_asked_for():
    for count in (15, 16, 20, 40, 99):
        assert len(figure_cloud(count)) == count
