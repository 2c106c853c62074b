"""Humanoid bone names: the 55 SMPL-X vocabulary joints under the names that Mixamo rigs use and that
Unity's Humanoid avatar and Blender's retargeting add-ons map automatically.

| vocabulary joint | humanoid name | vocabulary joint | humanoid name |
|---|---|---|---|
| pelvis | Hips | left_hip / right_hip | LeftUpLeg / RightUpLeg |
| spine1 | Spine | left_knee / right_knee | LeftLeg / RightLeg |
| spine2 | Spine1 | left_ankle / right_ankle | LeftFoot / RightFoot |
| spine3 | Spine2 | left_foot / right_foot | LeftToeBase / RightToeBase |
| neck | Neck | left_collar / right_collar | LeftShoulder / RightShoulder |
| head | Head | left_shoulder / right_shoulder | LeftArm / RightArm |
| jaw | Jaw | left_elbow / right_elbow | LeftForeArm / RightForeArm |
| left_eye_smplhf / right_eye_smplhf | LeftEye / RightEye | left_wrist / right_wrist | LeftHand / RightHand |
| left_thumb1..3 | LeftHandThumb1..3 | left_index1..3 | LeftHandIndex1..3 |
| left_middle1..3 | LeftHandMiddle1..3 | left_ring1..3 / left_pinky1..3 | LeftHandRing1..3 / LeftHandPinky1..3 |

(right-hand fingers likewise with ``Right``). "Left" is the person's own left, as in the vocabulary.
"""

from __future__ import annotations

_CENTRE = {"pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck",
           "head": "Head", "jaw": "Jaw"}
_SIDED = {"hip": "UpLeg", "knee": "Leg", "ankle": "Foot", "foot": "ToeBase", "collar": "Shoulder",
          "shoulder": "Arm", "elbow": "ForeArm", "wrist": "Hand", "eye_smplhf": "Eye"}
_FINGERS = ("thumb", "index", "middle", "ring", "pinky")


def _humanoid_names() -> dict[str, str]:
    names = dict(_CENTRE)
    for side in ("left", "right"):
        prefix = side.capitalize()
        names.update({f"{side}_{part}": prefix + name for part, name in _SIDED.items()})
        for finger in _FINGERS:
            for phalanx in (1, 2, 3):
                names[f"{side}_{finger}{phalanx}"] = f"{prefix}Hand{finger.capitalize()}{phalanx}"
    return names


#: Vocabulary joint → humanoid bone name (the table above).
HUMANOID_NAMES: dict[str, str] = _humanoid_names()
