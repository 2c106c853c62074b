"""Drawing a fit over its photo: the fitted body's silhouette and skeleton, the detected mask and keypoints.

Everything is in photo pixels (the processing copy). Projection uses the fit's camera
(``viewmat`` world-to-camera, OpenCV axes, ``K`` pixels).
"""

from __future__ import annotations

import numpy as np
import torch

from core.body.joints import JOINT_NAMES, KEYPOINT_NAMES, PARENTS
from core.body.model import BodyModel, BodyOutput
from core.camera import mesh_mask, project
from core.detect.person import PersonObservation
from core.fit.clothing import clothed_vertices, offset_directions
from core.fit.result import BodyFit
from core.fit.targets import keypoints_from_observation

_SKELETON_JOINTS = 22  # pelvis … right_wrist: the body's own bones (fingers are too small to draw)


def project_points(fit: BodyFit, points: np.ndarray) -> np.ndarray:
    """Photo pixels [..., 2] of world points [..., 3] seen by ``fit``'s camera."""
    return project(points, fit.viewmat, fit.K)


def body_mask(fit: BodyFit, vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Boolean [H, W] silhouette of the posed mesh (``vertices`` [V, 3] world, ``faces`` [F, 3]) in the photo."""
    return mesh_mask(vertices, faces, fit.viewmat, fit.K, fit.image_size)


def posed_body(body: BodyModel, fit: BodyFit) -> BodyOutput:
    """``body`` in the fitted shape and pose (world frame), without gradients."""
    with torch.no_grad():
        return body.forward(torch.tensor(fit.shape)[None], torch.tensor(fit.pose)[None], torch.tensor(fit.root)[None])


def fitted_keypoints(body: BodyModel, fit: BodyFit) -> np.ndarray:
    """Photo pixels [23, 2] of the fitted body's COCO-23 keypoints (:data:`KEYPOINT_NAMES` order):
    where the fit puts each point the user can pin."""
    posed = posed_body(body, fit)
    return project_points(fit, body.keypoints(posed.vertices)[0].numpy())


def draw_observation(rgb: np.ndarray, observation: PersonObservation) -> np.ndarray:
    """RGB uint8 [H, W, 3]: the photo with the background dimmed, the detected mask's outline (white)
    and the detected keypoints (green dots)."""
    import cv2

    mask = observation.mask > 0.5
    image = rgb.copy()
    image[~mask] = (image[~mask] * 0.45).astype(np.uint8)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    scale = max(1, round(max(image.shape[:2]) / 500))
    cv2.drawContours(image, contours, -1, (255, 255, 255), scale)
    for x, y, confidence in keypoints_from_observation(observation):
        if confidence > 0:
            cv2.circle(image, (int(x), int(y)), 3 * scale, (40, 220, 80), -1, cv2.LINE_AA)
    return image


def clothed_body(body: BodyModel, fit: BodyFit, posed: BodyOutput | None = None) -> np.ndarray | None:
    """World vertices [V, 3] of the fitted body with its clothing layer (None when the fit has none)."""
    if fit.clothing is None:
        return None
    posed = posed_body(body, fit) if posed is None else posed
    directions = offset_directions(body, torch.tensor(fit.shape), posed)
    return clothed_vertices(posed.vertices[0], directions, fit.clothing).numpy()


def draw_overlay(rgb: np.ndarray, observation: PersonObservation, fit: BodyFit, body: BodyModel) -> np.ndarray:
    """RGB uint8 [H, W, 3]: the photo dimmed, the detected mask's outline (white), the fitted body's
    silhouette (translucent blue), the outline of its clothing layer (light blue), its skeleton
    (the person's left limbs magenta, the rest orange: a left/right swap shows) and the detected
    keypoints (green dots, red where the fit is more than 5 % of the person's height away)."""
    return draw_fit(rgb, fit, body, keypoints_from_observation(observation), observation.box[3] - observation.box[1],
                    observation.mask)


def draw_fit(rgb: np.ndarray, fit: BodyFit, body: BodyModel, keypoints: np.ndarray, height_px: float,
             mask: np.ndarray | None = None) -> np.ndarray:
    """:func:`draw_overlay` from detected COCO-23 ``keypoints`` [23, 3] (pixels, confidence), the person's
    height in pixels ``height_px`` (for the 5 % limit) and their ``mask`` [H, W] (None: no outline)."""
    import cv2

    posed = posed_body(body, fit)
    joints = posed.joints[0].numpy()
    image = (rgb.astype(np.float32) * 0.7).astype(np.uint8)
    silhouette = body_mask(fit, posed.vertices[0].numpy(), body.faces.numpy())
    image[silhouette] = (0.55 * image[silhouette] + 0.45 * np.array([60, 120, 255])).astype(np.uint8)
    scale = max(1, round(max(image.shape[:2]) / 500))
    clothed = clothed_body(body, fit, posed)
    if clothed is not None:
        outline, _ = cv2.findContours(body_mask(fit, clothed, body.faces.numpy()).astype(np.uint8),
                                      cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(image, outline, -1, (120, 200, 255), scale, cv2.LINE_AA)
    if mask is not None:
        contours, _ = cv2.findContours((mask > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(image, contours, -1, (255, 255, 255), scale)
    points = project_points(fit, joints[:_SKELETON_JOINTS])
    for joint in range(1, _SKELETON_JOINTS):
        a, b = points[joint], points[PARENTS[joint]]
        colour = (255, 60, 220) if JOINT_NAMES[joint].startswith("left_") else (255, 150, 0)
        cv2.line(image, tuple(int(v) for v in a), tuple(int(v) for v in b), colour, 2 * scale, cv2.LINE_AA)
    limit = 0.05 * max(1.0, height_px)
    for name, (x, y, confidence) in zip(KEYPOINT_NAMES, keypoints, strict=True):
        if confidence > 0:
            bad = fit.keypoint_residuals.get(name, 0.0) > limit
            cv2.circle(image, (int(x), int(y)), 3 * scale, (255, 40, 40) if bad else (40, 220, 80), -1, cv2.LINE_AA)
    return image


def draw_side(rgb: np.ndarray, fit: BodyFit, body: BodyModel) -> np.ndarray:
    """RGB uint8 [H, W, 3]: the fitted body given a quarter turn about the vertical through its pelvis
    (its left side towards the camera), grey on the dimmed photo, with the vertical through the pelvis (red)
    and the pelvis → neck line (orange): a standing person's torso is upright when the two agree."""
    import cv2

    posed = posed_body(body, fit)
    vertices, joints = posed.vertices[0].numpy(), posed.joints[0].numpy()
    pelvis = joints[0]
    turn = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # x → z: the left side faces +z

    def turned(points: np.ndarray) -> np.ndarray:
        return (points - pelvis) @ turn.T + pelvis

    image = (rgb.astype(np.float32) * 0.35).astype(np.uint8)
    image[body_mask(fit, turned(vertices), body.faces.numpy())] = (190, 190, 190)
    scale = max(1, round(max(image.shape[:2]) / 500))
    base, neck = project_points(fit, turned(joints[[0, JOINT_NAMES.index("neck")]]))
    up = project_points(fit, pelvis[None] + np.array([[0.0, 0.9, 0.0]]))[0]
    cv2.line(image, tuple(int(v) for v in base), tuple(int(v) for v in up), (255, 40, 40), scale, cv2.LINE_AA)
    cv2.line(image, tuple(int(v) for v in base), tuple(int(v) for v in neck), (255, 150, 0), 2 * scale, cv2.LINE_AA)
    return image
