"""Helpers for the fitting tests."""

import numpy as np
import torch

from core.detect.person import PersonObservation
from core.fit.overlay import project_points
from core.fit.result import BodyFit
from core.fit.targets import MEDIAPIPE_INDEX


def exact_observation(body, person) -> PersonObservation:
    """A detection with the true keypoints and mask of a synthetic person (no detector in the way)."""
    truth = BodyFit(body_model=body.name, shape=person.shape, pose=person.pose, root=person.root, K=person.K,
                    image_size=person.rgb.shape[1::-1], viewmat=person.viewmat)
    with torch.no_grad():
        keypoints = body.keypoints(torch.tensor(person.vertices)[None])[0].numpy()
    pixels = project_points(truth, keypoints)
    mediapipe = np.zeros((33, 3), np.float32)
    for row, index in enumerate(MEDIAPIPE_INDEX):
        if index >= 0:
            mediapipe[index] = (*pixels[row], 1.0)
    mask = person.mask.astype(np.float32)
    ys, xs = np.nonzero(mask > 0.5)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return PersonObservation(mask=mask, keypoints=mediapipe, box=box, half_body=False, mask_source="alpha")


def true_frame(observation: PersonObservation, person):
    """The person crop of a synthetic ``person``'s photo with its true camera (the fit then works in the
    truth's world frame, so fits compare with the truth without alignment)."""
    import dataclasses

    from core.camera import frame_person

    frame = frame_person(person.rgb, observation.mask, observation.box)
    K_crop = np.array([[person.K[0, 0] * frame.scale, 0.0, (person.K[0, 2] - frame.offset[0]) * frame.scale],
                       [0.0, person.K[1, 1] * frame.scale, (person.K[1, 2] - frame.offset[1]) * frame.scale],
                       [0.0, 0.0, 1.0]])
    return dataclasses.replace(frame, K=K_crop, K_photo=np.asarray(person.K, np.float64))
