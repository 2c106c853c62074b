import numpy as np
import torch

from core.body.joints import JOINT_INDEX, clamp_to_limits
from core.body.motions import builtin_motion, relaxed_pose
from core.fit.pose_prior import load_pose_prior, main, shipped_pose_prior


def test_the_shipped_prior_is_what_its_recipe_trains(tmp_path):
    main(["-o", str(tmp_path / "prior.npz")])
    ours, shipped = load_pose_prior(tmp_path / "prior.npz"), shipped_pose_prior()
    for a, b in zip((ours.means, ours.precision_factors, ours.log_weights),
                    (shipped.means, shipped.precision_factors, shipped.log_weights), strict=True):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-3)


def test_people_poses_are_likelier_than_contortions():
    prior = shipped_pose_prior()
    walk = builtin_motion("walk", 10.0).poses
    usual = prior.nll(torch.cat([walk, relaxed_pose()[None]]))
    contorted = relaxed_pose().repeat(4, 1, 1)
    contorted[0, JOINT_INDEX["left_shoulder"], 1] = 0.6  # the arm swung far behind the back
    contorted[1, JOINT_INDEX["right_knee"], 0] = 2.4  # the heel at the buttock, standing
    contorted[2, JOINT_INDEX["left_hip"], 2] = 1.0  # the leg out sideways
    contorted[3, JOINT_INDEX["spine2"], 1] = 0.35  # the chest twisted
    contorted = clamp_to_limits(contorted)  # every one within the joint limits
    assert float(usual.max()) < float(prior.nll(contorted).min())
    batch = prior.nll(walk[:6].reshape(2, 3, 55, 3))  # any batch dimensions
    assert batch.shape == (2, 3) and np.allclose(batch.reshape(-1).numpy(), prior.nll(walk[:6]).numpy())


def test_the_fit_with_the_learned_prior_ends_in_a_likelier_pose(anny_body, synthetic_person):
    from core.camera import frame_person
    from core.detect.person import PersonDetector
    from core.fit.fit_body import FitOptions, fit_body
    from core.io.images import Photo

    rgb = synthetic_person.rgb
    with PersonDetector() as detector:
        observation = detector.observe(Photo(rgb=rgb, alpha=None, original_rgb=rgb, original_alpha=None, scale=1.0))
    frame = frame_person(rgb, observation.mask, observation.box)
    options = FitOptions(clothing=None)
    plain = fit_body(anny_body, observation, frame, options)
    learned = fit_body(anny_body, observation, frame, FitOptions(clothing=None, learned_prior=1e-3))
    prior = shipped_pose_prior()
    assert float(prior.nll(torch.tensor(learned.pose))) < float(prior.nll(torch.tensor(plain.pose))) - 0.5


def test_the_relaxed_prior_weighs_each_joints_distance_from_the_relaxed_pose_over_any_batch():
    from core.body.joints import NUM_JOINTS
    from core.fit.fit_body import PRIOR_WEIGHT, relaxed_prior

    mean = relaxed_pose()
    poses = mean + 0.1 * torch.randn(2, 3, NUM_JOINTS, 3, generator=torch.Generator().manual_seed(0))
    expected = (PRIOR_WEIGHT[:, None] * (poses - mean).square()).sum((-1, -2))
    torch.testing.assert_close(relaxed_prior(poses, mean), expected)  # [2, 3]
    assert float(relaxed_prior(mean, mean)) == 0.0
    only = [3, 7]
    partial = sum(PRIOR_WEIGHT[j] * (poses[..., j, :] - mean[j]).square().sum(-1) for j in only)
    torch.testing.assert_close(relaxed_prior(poses, mean, only), partial)
