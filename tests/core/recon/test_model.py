import torch

from core.recon.model import ModelConfig, ReconstructionNet, fourier_features

P, A = 200, 16


def _net(config=None):
    g = torch.Generator().manual_seed(0)
    mirror = torch.arange(P).flip(0)  # point i's partners: P-1-i (left/right) and (i + P/2) mod P (front/back)
    opposite = (torch.arange(P) + P // 2) % P
    return ReconstructionNet(config or ModelConfig(image_size=64, channels=(8, 16, 16, 32), dim=32, layers=1),
                             torch.randint(0, A, (P, 3), generator=g), torch.full((P, 3), 1 / 3), mirror, opposite,
                             torch.randint(0, 16, (P,), generator=g), A)


def _inputs(batch=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    visible = (torch.arange(P) < P // 2).float().expand(batch, P)  # the first half is seen
    return (torch.rand(batch, 3, 64, 64, generator=g), torch.ones(batch, 1, 64, 64),
            torch.rand(batch, P, 3, generator=g) - 0.5, torch.rand(batch, P, 2, generator=g) * 64, visible,
            torch.rand(batch, P, generator=g) * 2 - 1)


def test_outputs_have_the_documented_shapes_and_ranges():
    out = _net()(*_inputs())
    assert out.colour.shape == (2, P, 3) and ((out.colour > 0) & (out.colour < 1)).all()
    assert out.offset.abs().max() <= 0.05 and out.log_scale.shape == (2, P, 3)
    torch.testing.assert_close(out.rotation.norm(dim=-1), torch.ones(2, P))


def test_hidden_points_read_their_partners_pixels():
    net = _net().train(False)
    image, mask, canonical, uv, visible, facing = _inputs(batch=1)
    base = net(image, mask, canonical, uv, visible, facing).colour
    changed = image.clone()
    u, v = uv[0, 0].long()  # pixel of point 0 (seen), the left/right partner of hidden P-1, front/back of P/2
    patch = (0, slice(None), slice(max(0, v - 2), v + 3), slice(max(0, u - 2), u + 3))
    changed[patch] = 1 - changed[patch]
    after = net(changed, mask, canonical, uv, visible, facing).colour
    assert (after[0, P - 1] - base[0, P - 1]).abs().max() > 1e-4
    assert (after[0, P // 2] - base[0, P // 2]).abs().max() > 1e-4


def test_gradients_reach_every_parameter():
    net = _net()
    out = net(*_inputs())
    total = out.colour.sum() + out.offset.sum() + out.log_scale.sum() + out.rotation.sum() + out.opacity_logit.sum()
    total.backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing


def test_fourier_features():
    f = fourier_features(torch.zeros(5, 3), 4)
    per_axis = f.reshape(5, 3, 8)  # per axis: 4 sines, then 4 cosines
    assert torch.equal(per_axis[..., :4], torch.zeros(5, 3, 4)) and torch.equal(per_axis[..., 4:], torch.ones(5, 3, 4))
