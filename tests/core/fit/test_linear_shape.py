import torch

from core.fit.linear_shape import LinearShape


def test_matches_the_body_at_and_near_the_linearisation_point(anny_body):
    shape0 = torch.tensor([[0.5, 0.4, 0.6, 0.5, 0.5, 0.5]])
    linear = LinearShape(anny_body, shape0)
    exact = anny_body.shape_state(shape0)
    for name, value in linear.state(shape0).items():
        torch.testing.assert_close(value, exact[name])
    near = shape0 + torch.tensor([[0.03, -0.02, 0.02, 0.03, -0.03, 0.02]])
    exact = anny_body.shape_state(near)
    approx = linear.state(near)
    assert (approx["vertices"] - exact["vertices"]).abs().max() < 1e-3  # metres
    frozen = (anny_body.shape_state(shape0)["vertices"] - exact["vertices"]).abs().max()
    assert frozen > 5 * (approx["vertices"] - exact["vertices"]).abs().max()  # the linear term matters


def test_is_differentiable_in_the_shape(anny_body):
    linear = LinearShape(anny_body, anny_body.default_shape())
    shape = anny_body.default_shape().requires_grad_(True)
    linear.state(shape)["vertices"][..., 1].sum().backward()
    assert shape.grad.abs().sum() > 0


def test_a_batch_of_shapes_has_each_shapes_own_state(anny_body, tmp_path):
    """The linearisation takes the shape and its neighbours in one batch: every body model's
    ``shape_state`` of a batch is each row's own state, and for SMPL-X (linear in the shape) the
    linearised state is exact away from the linearisation point."""
    from synthetic_smplx import write_synthetic_smplx

    from core.body.smplx_body import SmplxBody

    smplx_body = SmplxBody(write_synthetic_smplx(tmp_path / "SMPLX_NEUTRAL.npz", anny_body))
    for body in (anny_body, smplx_body):
        count = len(body.shape_parameters)
        low = torch.tensor([p.minimum for p in body.shape_parameters])
        high = torch.tensor([p.maximum for p in body.shape_parameters])
        shapes = low + (high - low) * torch.rand(3, count, generator=torch.Generator().manual_seed(1))
        batch = body.shape_state(shapes)
        for row in range(3):
            for name, value in body.shape_state(shapes[row:row + 1]).items():
                torch.testing.assert_close(batch[name][row:row + 1], value, atol=1e-5, rtol=1e-5)
    linear = LinearShape(smplx_body, shapes[:1])
    for name, value in linear.state(shapes[1:2]).items():
        torch.testing.assert_close(value, smplx_body.shape_state(shapes[1:2])[name], atol=1e-4, rtol=1e-4)
