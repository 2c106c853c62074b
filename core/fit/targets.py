"""What the fit aims at: a detected person turned into keypoint and silhouette targets in crop pixels.

Keypoints follow :data:`core.body.joints.KEYPOINT_NAMES` (COCO-23). mediapipe Pose provides all but
the small toes; its foot index is the big toe. Keypoints whose mediapipe visibility is below
:data:`core.detect.person.VISIBLE` get confidence 0 (a half-body photo's invented legs are ignored).
Holistic face landmarks, when present, replace the nose and eyes (they are more precise); Holistic
hand landmarks become targets for the SMPL-X finger joints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.body.joints import JOINT_INDEX, KEYPOINT_NAMES
from core.camera import PersonFrame
from core.detect.person import VISIBLE, PersonObservation
from core.fit.silhouette import SilhouetteTarget

#: mediapipe Pose landmark for each COCO-23 keypoint (-1: mediapipe has none).
MEDIAPIPE_INDEX = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 31, 32, -1, -1, 29, 30)
#: mediapipe face-mesh landmarks: nose tip and the contours of the person's left and right eye.
_FACE_NOSE = (1,)
_FACE_LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398)
_FACE_RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173)
#: mediapipe hand landmark → finger joint (without the side prefix); 0 is the wrist.
_HAND = {0: "wrist", 1: "thumb1", 2: "thumb2", 3: "thumb3", 5: "index1", 6: "index2", 7: "index3",
         9: "middle1", 10: "middle2", 11: "middle3", 13: "ring1", 14: "ring2", 15: "ring3",
         17: "pinky1", 18: "pinky2", 19: "pinky3"}


@dataclass(frozen=True)
class FitTargets:
    """Targets in the pixels of a person crop (``size``² with intrinsics ``K``)."""

    keypoints: torch.Tensor  # [23, 2] crop pixels
    confidence: torch.Tensor  # [23] in [0, 1]; 0 = not seen
    hand_joints: torch.Tensor  # [J] int64 vocabulary joints with a hand target
    hand_points: torch.Tensor  # [J, 2] crop pixels
    silhouette: SilhouetteTarget  # the person mask at the silhouette resolution (M² pixels)
    K: torch.Tensor  # [3, 3] crop intrinsics (float64 for exact photo mapping)
    size: int  # crop side, pixels
    # [23, 4] the detector's 3D landmarks (core.fit.landmarks3d: x, y, z metres, confidence 0 where not seen), or None
    landmarks: torch.Tensor | None = None

    @property
    def has_hands(self) -> bool:
        return len(self.hand_joints) > 0


def coco_keypoints(landmarks: np.ndarray, face: np.ndarray | None = None, depth: np.ndarray | None = None
                   ) -> np.ndarray:
    """COCO-23 keypoints [23, 3] (x, y pixels, confidence) of mediapipe Pose's 33 ``landmarks`` [33, 3]
    (x, y pixels, visibility), with the Holistic ``face`` mesh [468, 2] when there is one; with the
    landmarks' ``depth`` [33] (3D landmarks) [23, 4]: x, y, depth, confidence."""
    points = np.zeros((len(KEYPOINT_NAMES), 3 if depth is None else 4), dtype=np.float32)
    for row, index in enumerate(MEDIAPIPE_INDEX):
        if index >= 0:
            x, y, visibility = landmarks[index]
            points[row, [0, 1, -1]] = (x, y, visibility if visibility >= VISIBLE else 0.0)
            if depth is not None:
                points[row, 2] = depth[index]
    if face is not None:
        for name, indices in (("nose", _FACE_NOSE), ("left_eye", _FACE_LEFT_EYE), ("right_eye", _FACE_RIGHT_EYE)):
            points[KEYPOINT_NAMES.index(name)] = (*face[list(indices)].mean(0), 1.0)
    return points


def coco_landmarks(world: np.ndarray) -> np.ndarray:
    """COCO-23 3D landmarks [23, 4] (x, y, z metres, confidence) of mediapipe Pose's 33 3D ``world``
    landmarks [33, 4] (x, y, z, visibility; :attr:`core.detect.person.PersonObservation.world`)."""
    return coco_keypoints(world[:, [0, 1, 3]], depth=world[:, 2])


def keypoints_from_observation(observation: PersonObservation) -> np.ndarray:
    """COCO-23 keypoints [23, 3] (x, y photo pixels, confidence) of a detected person."""
    return coco_keypoints(observation.keypoints, observation.face)


#: Vocabulary joints with a hand landmark: the person's left hand's (wrist, then thumb … pinky), then the right's.
HAND_JOINTS = [JOINT_INDEX[f"{side}_{joint}"] for side in ("left", "right") for joint in _HAND.values()]


def hand_points(left: np.ndarray | None, right: np.ndarray | None) -> np.ndarray:
    """Targets [32, 3] (x, y pixels, confidence 1 or 0) of :data:`HAND_JOINTS` from the Holistic hands
    ``left`` and ``right`` [21, 2] (the person's own sides; None: not found)."""
    points = np.zeros((len(HAND_JOINTS), 3), dtype=np.float32)
    for offset, hand in ((0, left), (len(_HAND), right)):
        if hand is not None:
            points[offset: offset + len(_HAND), :2] = hand[list(_HAND)]
            points[offset: offset + len(_HAND), 2] = 1.0
    return points


def hand_targets(observation: PersonObservation) -> tuple[list[int], np.ndarray]:
    """Vocabulary joint indices and their photo-pixel targets [J, 2] from the Holistic hands."""
    points = hand_points(observation.left_hand, observation.right_hand)
    seen = points[:, 2] > 0
    return [j for j, s in zip(HAND_JOINTS, seen, strict=True) if s], points[seen, :2].reshape(-1, 2)


def make_targets(observation: PersonObservation, frame: PersonFrame, mask_size: int = 256) -> FitTargets:
    """The fit's targets for ``observation`` in the crop ``frame`` (see :func:`core.camera.frame_person`)."""
    from PIL import Image

    keypoints = keypoints_from_observation(observation)
    joints, hand_points = hand_targets(observation)
    mask = np.asarray(Image.fromarray(frame.mask.astype(np.float32)).resize((mask_size, mask_size),
                                                                             Image.Resampling.BOX))
    return FitTargets(
        keypoints=torch.tensor(frame.to_crop(keypoints[:, :2]), dtype=torch.float32),
        confidence=torch.tensor(keypoints[:, 2]),
        hand_joints=torch.tensor(joints, dtype=torch.int64),
        hand_points=torch.tensor(frame.to_crop(hand_points), dtype=torch.float32).reshape(-1, 2),
        silhouette=SilhouetteTarget(np.clip(mask, 0, 1)),
        K=torch.tensor(frame.K, dtype=torch.float64),
        size=frame.image.shape[0],
        landmarks=None if observation.world is None else torch.tensor(coco_landmarks(observation.world)),
    )
