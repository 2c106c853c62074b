import pytest
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


def test_the_flip_search_drops_only_flips_that_are_behind(anny_body, synthetic_person):
    """After a third of its steps the depth-flip search goes on with the pose and the ``flip_keep``
    flips of lowest objective only; each of them goes on exactly as in the search without the cut
    (its own Adam moments carried), so the search ends as the full one does whenever the winner is
    among them."""
    import dataclasses

    from fit_helpers import exact_observation, true_frame

    from core.fit.fit_body import BODY_JOINTS, Constraints, FitOptions, _initial_params, _Problem
    from core.fit.targets import make_targets

    observation = exact_observation(anny_body, synthetic_person)
    frame = true_frame(observation, synthetic_person)
    options = FitOptions()
    problem = _Problem(anny_body, make_targets(observation, frame, options.mask_size), frame, options, Constraints())
    params = problem.scale_variables(_initial_params(problem, None))
    problem.relinearise(params)
    pose = torch.as_tensor(synthetic_person.pose, dtype=torch.float32)
    rest = anny_body.forward(problem.shape_value(params["shape"])[None], torch.zeros(1, 55, 3)).joints[0]
    candidates = torch.stack([pose] + [p for limb in LIMBS for p in limb_alternatives(pose, rest, limb)])
    mask = torch.zeros(55, 1)
    mask[BODY_JOINTS] = 1.0

    pruned = problem._optimise_flips(candidates, params, mask)
    problem.options = dataclasses.replace(options, flip_keep=len(candidates))
    full = problem._optimise_flips(candidates, params, mask)
    assert len(pruned) == options.flip_keep + 1 and len(full) == len(candidates)
    torch.testing.assert_close(pruned[0], full[0], rtol=0, atol=1e-6)  # the pose itself always goes on
    for row in pruned[1:]:
        assert float((full[1:] - row).abs().amax((1, 2)).min()) < 1e-6  # a flip of the full search, unchanged
    with torch.no_grad():
        scores = problem.batch_objective(full, params)
    assert float(problem.batch_objective(pruned, params)[1:].min()) == pytest.approx(float(scores[1:].min()))
