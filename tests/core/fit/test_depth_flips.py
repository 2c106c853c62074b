import torch

from core.body.joints import JOINT_INDEX, forward_kinematics
from core.body.motions import builtin_motion
from core.fit.depth_flips import LIMBS, limb_alternatives


def test_flips_keep_the_image_and_mirror_the_depth(anny_body):
    rest = anny_body.forward(anny_body.default_shape(), torch.zeros(1, 55, 3)).joints[0]
    pose = builtin_motion("jump", 10.0).poses[8]  # crouched, arms swinging: every limb bent in depth
    joints = forward_kinematics(pose, rest)
    for limb, ((upper, elbow), (_, wrist)) in LIMBS.items():
        a, b, c = (JOINT_INDEX[n] for n in (upper, elbow, wrist))
        depth_upper, depth_lower = joints[b, 2] - joints[a, 2], joints[c, 2] - joints[b, 2]
        # the body joints but a leg's toe joint, which turns with the foot (the hand's joints are beyond 22)
        body = [j for j in range(22) if not (limb.endswith("leg") and j == JOINT_INDEX[limb.replace("leg", "foot")])]
        for alternative, mirrored in zip(limb_alternatives(pose, rest, limb),
                                         ((True, False), (False, True), (True, True)), strict=True):
            moved = forward_kinematics(alternative, rest)
            assert float((moved[body, :2] - joints[body, :2]).abs().max()) < 1e-4, limb  # the same orthographic image
            assert torch.allclose(moved[b, 2] - moved[a, 2], -depth_upper if mirrored[0] else depth_upper, atol=1e-4)
            assert torch.allclose(moved[c, 2] - moved[b, 2], -depth_lower if mirrored[1] else depth_lower, atol=1e-4)
            others = [j for j in body if j not in (b, c)]
            assert float((moved[others] - joints[others]).abs().max()) < 1e-4  # nothing else moves
