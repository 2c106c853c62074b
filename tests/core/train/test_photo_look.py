import numpy as np
import torch

from core.train.photo_look import ambient_occlusion, background, degrade, random_lighting, shadowed


def test_a_splat_behind_another_from_the_light_is_in_shadow():
    means = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, -0.5], [0.6, 0.0, -0.5]])  # the light comes from +Z
    quats = torch.tensor([[1.0, 0.0, 0.0, 0.0]]).expand(3, 4).contiguous()
    scales = torch.tensor([[0.15, 0.15, 0.01], [0.05, 0.05, 0.01], [0.05, 0.05, 0.01]])
    lit = shadowed(means, quats, scales, torch.tensor([0.0, 0.0, 1.0]))
    assert lit[0] == 1.0 and lit[1] < 0.2 and lit[2] == 1.0


def test_ambient_occlusion_darkens_where_the_body_encloses_itself(anny_body):
    from core.body.motions import relaxed_pose

    with torch.no_grad():
        posed = anny_body.forward(anny_body.default_shape(), relaxed_pose()[None]).vertices[0].numpy()
    occlusion = ambient_occlusion(posed, anny_body.faces.numpy())
    assert occlusion.shape == (len(posed),) and (occlusion > 0).all() and (occlusion <= 1).all()
    top = posed[:, 1] > posed[:, 1].max() - 0.05  # the crown of the head sees the whole sky
    inner_thighs = (np.abs(posed[:, 0]) < 0.06) & (posed[:, 1] < posed[:, 1].min() + 0.9) & (
        posed[:, 1] > posed[:, 1].min() + 0.6)
    assert occlusion[top].mean() > 0.9 and occlusion[inner_thighs].mean() < occlusion[top].mean() - 0.1


def test_lighting_backgrounds_and_camera_defects_are_photo_like():
    rng = np.random.default_rng(3)
    lights = [random_lighting(rng) for _ in range(50)]
    assert all(abs(np.linalg.norm(light.direction) - 1) < 1e-9 and light.direction[2] >= -1e-9 for light in lights)
    assert any(light.shadows for light in lights) and not all(light.shadows for light in lights)
    scenes = [background(rng, 64) for _ in range(20)]
    assert all(s.shape == (64, 64, 3) and 0 <= s.min() and s.max() <= 1 for s in scenes)
    assert np.mean([s.std() for s in scenes]) > 0.02  # not flat colours
    chroma = np.mean([np.abs(s - s.mean(-1, keepdims=True)).mean() for s in scenes])
    assert chroma < 0.12  # muted, as walls and streets are
    image = np.full((64, 64, 3), 0.5, np.float32)
    photo = degrade(np.random.default_rng(4), image)
    assert photo.dtype == np.uint8 and photo.shape == (64, 64, 3) and photo.std() > 0.5  # noise
    np.testing.assert_array_equal(photo, degrade(np.random.default_rng(4), image))  # deterministic
