import torch

from core.body.joints import NUM_JOINTS, PARENTS, global_rotations
from core.rotations import axis_angle_to_rotmat


def _reference(pose: torch.Tensor) -> torch.Tensor:
    """World rotations joint by joint down the tree (parents precede children)."""
    local = axis_angle_to_rotmat(pose)
    world: list[torch.Tensor] = []
    for joint, parent in enumerate(PARENTS):
        world.append(local[..., joint, :, :] if parent < 0 else world[parent] @ local[..., joint, :, :])
    return torch.stack(world, -3)


def test_global_rotations_compose_each_joint_with_its_ancestors_and_differentiate_alike():
    torch.manual_seed(0)
    pose = (0.5 * torch.randn(2, 3, NUM_JOINTS, 3)).requires_grad_(True)
    weights = torch.randn(2, 3, NUM_JOINTS, 3, 3)
    fast = global_rotations(pose)
    reference = _reference(pose)
    assert fast.shape == (2, 3, NUM_JOINTS, 3, 3)
    assert torch.allclose(fast, reference, atol=1e-5)
    grad_fast, = torch.autograd.grad((fast * weights).sum(), pose)
    grad_reference, = torch.autograd.grad((reference * weights).sum(), pose)
    assert grad_fast.abs().max() > 0.1 and torch.allclose(grad_fast, grad_reference, atol=1e-4)
