"""Following one person through a video: COCO-23 keypoints per frame, and one full observation to fit.

Until someone is seen, every frame is searched for all people (:meth:`PersonDetector.find_people`).
With one person, mediapipe Pose then runs in its video mode on the whole frame: it tracks the person
from frame to frame and runs its detector only when the track is lost (about 25 ms a frame at 720p
on one core); with ``hands``, mediapipe Holistic in its video mode does the same and adds both
hands' landmarks (about three times slower). With several people, the chosen one (``person``: 0 is
the largest in the first frame anyone is seen, then by size) is followed by searching a window around
their last box in each frame (the window's search gives their 3D landmarks too). Frames where the
person is not found get zero confidence; the fit fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.detect.person import (
    VISIBLE,
    NoPersonError,
    PersonDetector,
    PersonObservation,
    SeveralPeopleError,
    box_area,
    landmark_pixels,
    observation_of,
    pose_landmarks,
)
from core.fit.targets import HAND_JOINTS, coco_keypoints, coco_landmarks, hand_points, keypoints_from_observation

_WINDOW = 0.6  # the search window around the last box, widened by this share of its longer side per edge
_LOST = 3  # a track with fewer visible keypoints is treated as lost
_UNKNOWN = np.full((23, 4), np.nan, np.float32)
_NO_HANDS = np.zeros((len(HAND_JOINTS), 3), np.float32)


@dataclass(frozen=True)
class Tracked:
    """The followed person in one frame."""

    keypoints: np.ndarray  # [23, 3] COCO-23 (pixels, confidence; all zero when not seen)
    world: np.ndarray  # [23, 4] the detector's 3D landmarks (metres: x right, y down, z away from the
    #   camera, relative to the hips; the ray to the person is their z axis; confidence last; NaN: unknown)
    hands: np.ndarray  # [32, 3] hand targets of core.fit.targets.HAND_JOINTS (pixels, confidence 0 or 1)


@dataclass(frozen=True)
class Anchor:
    """The frame whose person is fitted in full (mask, shape, camera pitch) to start the motion."""

    index: int
    rgb: np.ndarray  # [H, W, 3] uint8
    observation: PersonObservation


class PersonTracker:
    """Feed frames in order with :meth:`track`; the chosen person's keypoints come back per frame.

    Holds mediapipe graphs: use it as a context manager."""

    def __init__(self, person: int | None = None, hands: bool = False) -> None:
        import mediapipe as mp

        self.person, self.hands = person, hands
        self.anchor: Anchor | None = None
        self.people_seen = 0
        self._detector = PersonDetector()
        if hands:
            self._video = mp.solutions.holistic.Holistic(static_image_mode=False, model_complexity=1)
        else:
            self._video = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1,
                                                 enable_segmentation=False)
        self._box: tuple[int, int, int, int] | None = None  # last box of the person followed in windows

    def __enter__(self) -> PersonTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the mediapipe graphs (idempotent)."""
        self._detector.close()
        if self._video is not None:
            self._video.close()
            self._video = None

    def _start(self, index: int, rgb: np.ndarray, seconds: float) -> Tracked | None:
        people = [observation_of(found) for found in self._detector.find_people(rgb)]
        if not people:
            return None
        people.sort(key=lambda p: box_area(p.box), reverse=True)
        self.people_seen = len(people)
        choice = self.person if self.person is not None else 0
        if len(people) > 1 and self.person is None:
            raise SeveralPeopleError(
                f"{len(people)} people are in the video (at {seconds:.1f} s). Choose whose motion to take with "
                f"--person N (0 is the largest, {len(people) - 1} the smallest), or trim the video to one person.",
                [p.box for p in people])
        if choice >= len(people):
            choices = "0" if len(people) == 1 else f"0 to {len(people) - 1}"
            raise NoPersonError(f"person {choice} was asked for, but only {len(people)} "
                                f"{'person is' if len(people) == 1 else 'people are'} in the video "
                                f"(at {seconds:.1f} s); use --person {choices}")
        chosen = people[choice]
        self.anchor = Anchor(index, rgb, chosen)
        if len(people) > 1:
            self._box = chosen.box
            return Tracked(keypoints_from_observation(chosen), coco_landmarks(chosen.world),
                           self._window_hands(rgb, chosen.box))
        seen = self._video_landmarks(rgb)  # start the video graph's track here
        return Tracked(keypoints_from_observation(chosen), seen.world, seen.hands) if seen is not None else \
            Tracked(keypoints_from_observation(chosen), _UNKNOWN, _NO_HANDS)

    def _video_landmarks(self, rgb: np.ndarray) -> Tracked | None:
        """The video graph's next frame ``rgb`` (None: nobody)."""
        result = self._video.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return None
        raw, world = pose_landmarks(result, rgb.shape)
        hands = hand_points(landmark_pixels(result.left_hand_landmarks, rgb.shape),
                            landmark_pixels(result.right_hand_landmarks, rgb.shape)) if self.hands else _NO_HANDS
        return Tracked(coco_keypoints(raw), coco_landmarks(world), hands)

    def _window_hands(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """Hand targets of the person in ``box`` (Holistic on a crop around it), when hands are asked for."""
        if not self.hands:
            return _NO_HANDS
        window, left, top = self._window(rgb, box)
        _, left_hand, right_hand = self._detector.hands_and_face(window)
        points = hand_points(left_hand, right_hand)
        points[:, :2] += np.array([left, top], np.float32) * points[:, 2:]
        return points

    def _window(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> tuple[np.ndarray, int, int]:
        """The part of ``rgb`` around ``box``, widened by :data:`_WINDOW`, and its top-left corner."""
        x0, y0, x1, y1 = box
        pad = int(_WINDOW * max(x1 - x0, y1 - y0))
        height, width = rgb.shape[:2]
        left, top = max(0, x0 - pad), max(0, y0 - pad)
        return np.ascontiguousarray(rgb[top: min(height, y1 + pad), left: min(width, x1 + pad)]), left, top

    def _in_window(self, rgb: np.ndarray) -> Tracked | None:
        """The person near their last box: mediapipe on a window around it (several people in the video)."""
        window, left, top = self._window(rgb, self._box)
        found = self._detector.find_people(window)[:1]
        if not found:
            return None
        mask = found[0].mask
        height, width = rgb.shape[:2]
        full = np.zeros((height, width), np.float32)
        full[top: top + mask.shape[0], left: left + mask.shape[1]] = mask
        shifted = found[0].keypoints + np.array([left, top, 0], np.float32)
        observation = observation_of(replace(found[0], keypoints=shifted, mask=full))
        self._box = observation.box
        return Tracked(keypoints_from_observation(observation), coco_landmarks(observation.world),
                       self._window_hands(rgb, observation.box))

    def track(self, index: int, rgb: np.ndarray, seconds: float) -> Tracked:
        """The person in frame ``index`` (``rgb`` [H, W, 3] uint8, ``seconds`` into the clip, for messages)."""
        if self.anchor is None:
            found = self._start(index, rgb, seconds)
        elif self._box is not None:
            found = self._in_window(rgb)
        else:
            found = self._video_landmarks(rgb)
        if found is None or int((found.keypoints[:, 2] >= VISIBLE).sum()) < _LOST:
            return Tracked(np.zeros((23, 3), np.float32), _UNKNOWN, _NO_HANDS)
        return found
