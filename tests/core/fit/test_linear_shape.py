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
