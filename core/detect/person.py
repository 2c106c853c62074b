"""Finding the person in a photo: mask, 33 body keypoints, box; several people and half bodies reported.

Uses mediapipe 0.10.21's legacy Pose solution (``model_complexity=1``, segmentation on), whose
weights ship inside the wheel: nothing is downloaded. Pose always returns a single person, so
several people are found by blanking out each detected person (mask, dilated, plus the box of its
visible keypoints) and detecting again until nobody is left. A person whose knees and ankles
are not visible is reported as a half body (mediapipe otherwise invents legs). An RGBA cut-out's
alpha is used as the person mask. :class:`PersonDetector` keeps the graphs open for many photos.
Keypoints are in pixels of the photo's processing copy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.io.images import Photo
from core.progress import CancelToken

#: mediapipe Pose landmark indices of the knees and ankles: none visible means a half body.
LOWER_BODY = (25, 26, 27, 28)
VISIBLE = 0.5
MAX_PEOPLE = 6
SEARCH_SIDE = 1024  # pixels across the copy searched for further people (smaller loses small people)
_MIN_MASK_FRACTION = 0.002
#: Median landmark visibility a further person needs: searching the photo with its person blanked out,
#: mediapipe sometimes "finds" one in background clutter with most landmarks unseen (median 0.19 on a
#: synthetic photo's shapes; people, even half hidden, 0.9 and more). Such a find is blanked, not reported.
_PERSON_VISIBILITY = 0.5
_CUTOUT_FRACTION = 0.01  # an alpha channel counts as a person mask when this much is transparent


class DetectionError(ValueError):
    """The photo cannot be used as it is; the message says what to do."""


class NoPersonError(DetectionError):
    """Nobody was found."""


class SeveralPeopleError(DetectionError):
    """More than one person; ``boxes`` holds each one's (x0, y0, x1, y1) in pixels, largest first."""

    def __init__(self, message: str, boxes: list[tuple[int, int, int, int]]) -> None:
        super().__init__(message)
        self.boxes = boxes


@dataclass(frozen=True)
class PersonObservation:
    """One person in a photo (pixels of the processing copy)."""

    mask: np.ndarray  # [H, W] float32 in [0, 1]
    keypoints: np.ndarray  # [33, 3]: x, y (pixels), visibility in [0, 1] (mediapipe Pose order)
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the mask and visible keypoints
    half_body: bool  # knees and ankles not visible
    mask_source: str  # "alpha" (the photo's own cut-out) or "mediapipe"
    face: np.ndarray | None = None  # [468, 2] pixels (mediapipe Holistic face mesh), when asked and found
    left_hand: np.ndarray | None = None  # [21, 2] pixels, mediapipe's "left hand", when asked and found
    right_hand: np.ndarray | None = None  # [21, 2] pixels
    # [33, 4] mediapipe's 3D guess of the same landmarks (metres, origin between the hips; x right, y down, z away
    # from the camera along the ray to the person; visibility); None where not known
    world: np.ndarray | None = None


def _box(mask: np.ndarray, keypoints: np.ndarray) -> tuple[int, int, int, int]:
    import cv2

    x, y, w, h = cv2.boundingRect((mask > 0.5).astype(np.uint8))
    xs, ys = ([x, x + w - 1], [y, y + h - 1]) if w > 0 else ([], [])
    visible = keypoints[keypoints[:, 2] > VISIBLE, :2]
    xs, ys = np.concatenate([xs, visible[:, 0]]), np.concatenate([ys, visible[:, 1]])
    if len(xs) == 0:
        return 0, 0, 0, 0
    height, width = mask.shape
    return (int(max(0, xs.min())), int(max(0, ys.min())), int(min(width, xs.max() + 1)),
            int(min(height, ys.max() + 1)))


@dataclass(frozen=True)
class Found:
    """One person as mediapipe Pose finds them (pixels of the image searched)."""

    keypoints: np.ndarray  # [33, 3] x, y pixels, visibility
    mask: np.ndarray  # [H, W] float32 in [0, 1]
    world: np.ndarray  # [33, 4] 3D landmarks (see PersonObservation.world)


def pose_landmarks(result, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The keypoints [33, 3] (x, y pixels, visibility) and 3D landmarks [33, 4] (see
    :attr:`PersonObservation.world`) of a mediapipe Pose or Holistic ``result`` that found a person in an
    image of ``shape`` (H, W, …)."""
    height, width = shape[:2]
    keypoints = np.array([[lm.x * width, lm.y * height, lm.visibility] for lm in result.pose_landmarks.landmark],
                         dtype=np.float32)
    world = np.array([[lm.x, lm.y, lm.z, lm.visibility] for lm in result.pose_world_landmarks.landmark],
                     dtype=np.float32)
    return keypoints, world


def landmark_pixels(landmarks, shape: tuple[int, ...]) -> np.ndarray | None:
    """Pixels [N, 2] of mediapipe normalised ``landmarks`` (a face mesh, a hand) in an image of ``shape``
    (H, W, …); None where mediapipe found none."""
    if landmarks is None:
        return None
    height, width = shape[:2]
    return np.array([[lm.x * width, lm.y * height] for lm in landmarks.landmark], dtype=np.float32)


def observation_of(found: Found) -> PersonObservation:
    """The :class:`PersonObservation` of one person found by mediapipe."""
    half = bool((found.keypoints[list(LOWER_BODY), 2] < VISIBLE).all())
    return PersonObservation(mask=found.mask, keypoints=found.keypoints, box=_box(found.mask, found.keypoints),
                             half_body=half, mask_source="mediapipe", world=found.world)


def box_area(box: tuple[int, int, int, int]) -> int:
    """Pixels inside a box (x0, y0, x1, y1)."""
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def refine_mask(rgb: np.ndarray, mask: np.ndarray, iterations: int = 1) -> np.ndarray:
    """A person mask [H, W] in [0, 1] sharpened to the photo's edges with OpenCV's GrabCut: pixels
    the mask is sure about (eroded inside, dilated outside) are fixed, the band between is decided.
    Only the box of the dilated mask (and a band's margin of background around it, from which the
    background's colours are learnt) is cut. One GrabCut iteration: more did not move the masks closer
    to the truth (IoU 0.976 with 1, 0.976 with 3 on 24 real photos) and each adds half the time."""
    import cv2

    hard = (mask > 0.5).astype(np.uint8)
    if hard.all() or not hard.any():
        return mask.astype(np.float32)
    band = max(3, int(0.01 * max(mask.shape)))
    kernel = np.ones((band, band), np.uint8)
    outside = cv2.dilate(hard, kernel) == 0
    x, y, w, h = cv2.boundingRect(1 - outside.astype(np.uint8))
    x0, y0 = max(0, x - 2 * band), max(0, y - 2 * band)
    x1, y1 = min(mask.shape[1], x + w + 2 * band), min(mask.shape[0], y + h + 2 * band)
    box = np.s_[y0:y1, x0:x1]
    labels = np.full((y1 - y0, x1 - x0), cv2.GC_PR_BGD, np.uint8)
    labels[hard[box] > 0] = cv2.GC_PR_FGD
    labels[cv2.erode(hard, kernel)[box] > 0] = cv2.GC_FGD
    labels[outside[box]] = cv2.GC_BGD
    if not (labels == cv2.GC_BGD).any():  # the person fills the photo: nothing to learn the background from
        return mask.astype(np.float32)
    background, foreground = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models with k-means: the same photo gets the same mask
    cv2.grabCut(cv2.cvtColor(np.ascontiguousarray(rgb[box]), cv2.COLOR_RGB2BGR), labels, None, background,
                foreground, iterations, cv2.GC_INIT_WITH_MASK)
    refined = np.zeros(mask.shape, np.float32)
    refined[box] = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD))
    return refined


class PersonDetector:
    """mediapipe's Pose (and, on first use, Holistic) graphs, kept open for repeated photos.

    Not thread-safe: use one detector per thread, as a context manager (``with PersonDetector() as
    d: d.observe(photo)``) so the graphs are closed after use. Reusing it saves the graph set-up
    (≈0.2 s) on every photo after the first."""

    def __init__(self) -> None:
        import mediapipe as mp

        self._mp = mp
        self._pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True)
        self._holistic = None

    def __enter__(self) -> PersonDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the mediapipe graphs (idempotent)."""
        for graph in (self._pose, self._holistic):
            if graph is not None:
                graph.close()
        self._pose = self._holistic = None

    def _graph(self, kind: str):
        if self._pose is None:
            raise RuntimeError("this PersonDetector is closed")
        if kind == "holistic" and self._holistic is None:
            self._holistic = self._mp.solutions.holistic.Holistic(static_image_mode=True, model_complexity=1)
        return self._pose if kind == "pose" else self._holistic

    def _run_pose(self, rgb: np.ndarray) -> Found | None:
        """The most prominent person, or None."""
        result = self._graph("pose").process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None or result.segmentation_mask is None:
            return None
        keypoints, world = pose_landmarks(result, rgb.shape)
        return Found(keypoints, np.asarray(result.segmentation_mask, dtype=np.float32), world)

    def find_people(self, rgb: np.ndarray) -> list[Found]:
        """Every person found in ``rgb`` [H, W, 3] uint8, in order of detection (the most prominent first).
        The first person is detected at full resolution; the search for more runs on a copy at most
        :data:`SEARCH_SIDE` pixels across (mediapipe works at 256² inside, and blanking a large photo
        costs more than the detection)."""
        import cv2

        height, width = rgb.shape[:2]
        scale = min(1.0, SEARCH_SIDE / max(height, width))
        small = (cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                            interpolation=cv2.INTER_AREA) if scale < 1 else rgb.copy())
        people: list[Found] = []
        for _ in range(MAX_PEOPLE):
            found = self._run_pose(rgb if not people else small)
            if found is None:
                break
            keypoints, mask = found.keypoints, found.mask
            if people and scale < 1:  # back to full resolution
                keypoints = keypoints * np.array([1 / scale, 1 / scale, 1], np.float32)
                mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
            if (mask > 0.5).mean() < _MIN_MASK_FRACTION:
                break
            if not people or float(np.median(keypoints[:, 2])) >= _PERSON_VISIBILITY:
                people.append(Found(keypoints, mask, found.world))
            search_mask = cv2.resize(mask, small.shape[1::-1], interpolation=cv2.INTER_AREA) if scale < 1 else mask
            kernel = max(3, round(15 * scale))
            blank = cv2.dilate((search_mask > 0.5).astype(np.uint8), np.ones((kernel, kernel), np.uint8))
            visible = keypoints[keypoints[:, 2] > VISIBLE, :2] * scale
            if len(visible):  # the box of the visible keypoints (not of the mask: neighbours may touch it)
                (x0, y0), (x1, y1) = visible.min(0).astype(int), visible.max(0).astype(int)
                pad = int(0.1 * max(x1 - x0, y1 - y0))
                blank[max(0, y0 - pad): y1 + pad, max(0, x0 - pad): x1 + pad] = 1
            if cv2.countNonZero(blank) == blank.size:
                break
            fill = cv2.mean(small, mask=1 - blank)[:3]  # the mean colour of what is left
            np.copyto(small, np.asarray(fill, dtype=np.uint8), where=blank[..., None].view(bool))
        return people

    def hands_and_face(self, rgb: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """Face [468, 2], left hand [21, 2] and right hand [21, 2] keypoints in pixels (None where not
        found), from mediapipe's Holistic model (``model_complexity=1``; weights from the wheel)."""
        result = self._graph("holistic").process(np.ascontiguousarray(rgb))
        return tuple(landmark_pixels(part, rgb.shape) for part in (result.face_landmarks, result.left_hand_landmarks,
                                                                   result.right_hand_landmarks))

    def observe(self, photo: Photo, allow_several: bool = False, with_hands_and_face: bool = False,
                grabcut: bool = True, cancel: CancelToken | None = None) -> PersonObservation:
        """The person in ``photo``; raises :class:`NoPersonError`, or :class:`SeveralPeopleError` (with
        everyone's box) unless ``allow_several`` (then the most prominent person is returned).
        ``with_hands_and_face`` adds Holistic face and hand keypoints; ``grabcut`` refines a detected mask
        (:func:`refine_mask`, a fifth of a second at most on our photos: ``cancel`` is looked at before it)."""
        people = self.find_people(photo.rgb)
        if not people:
            raise NoPersonError("No person was found in this photo. Use a photo that shows one person, "
                                "ideally the whole body, facing the camera.")
        if len(people) > 1 and not allow_several:
            boxes = sorted((_box(p.mask, p.keypoints) for p in people), key=box_area, reverse=True)
            raise SeveralPeopleError(f"{len(people)} people were found in this photo. Crop it to the one person "
                                     "to reconstruct (drag a box around them).", boxes)
        observation = observation_of(people[0])
        mask, source = observation.mask, "mediapipe"
        if photo.alpha is not None and (photo.alpha < 128).mean() > _CUTOUT_FRACTION:  # a real cut-out
            mask, source = photo.alpha.astype(np.float32) / 255.0, "alpha"
        elif grabcut:
            if cancel is not None:
                cancel.check()
            mask = refine_mask(photo.rgb, mask)
        face = left = right = None
        if with_hands_and_face:
            face, left, right = self.hands_and_face(photo.rgb)
        return replace(observation, mask=mask, box=_box(mask, observation.keypoints), mask_source=source, face=face,
                       left_hand=left, right_hand=right)


def observe_person(photo: Photo, allow_several: bool = False, with_hands_and_face: bool = False,
                   grabcut: bool = True) -> PersonObservation:
    """:meth:`PersonDetector.observe` with a detector opened for this photo and closed after it."""
    with PersonDetector() as detector:
        return detector.observe(photo, allow_several, with_hands_and_face, grabcut)
