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
