"""Real people seen from the front and from views a photo does not show: the benchmark's ground truth.

Two folder layouts are recognised anywhere under a root folder (the layout of ``../shared/realback``):

* **front/back pairs** (4D-DRESS renders): ``NAME_front.png`` beside ``NAME_back.png``, optionally
  with ``NAME_front_label.png`` / ``NAME_back_label.png`` (the same views painted by part in
  :data:`LABEL_COLOURS` on white). No camera: the back is the front camera turned 180° about the
  vertical axis, so predictions are aligned to the back by the silhouette's box.
* **calibrated turntables** (PaMIR renders): ``mv_renders/color/0000.jpg`` … one view per degree,
  0 = front, with ``mv_renders/meta/cam_data.mat`` (per view: camera ``center``, viewing
  ``direction``, ``right`` and ``up``, world Y up, the person facing +Z) and PaMIR's pinhole
  (f = 5000 px, principal point at the image centre). Views 90, 180 and 270 are scored.

Masks: the label image's painted pixels where there is one, else the pixels that differ from the
background colour (read off the image border), holes filled, specks dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Part name → colour (RGB 0–255) in the ``*_label.png`` images.
LABEL_COLOURS: dict[str, tuple[int, int, int]] = {
    "skin": (128, 128, 128), "hair": (255, 128, 0), "shoes": (128, 0, 255), "upper": (180, 50, 50),
    "lower": (50, 180, 50), "outer": (0, 128, 255),
}
PARTS = tuple(LABEL_COLOURS)
#: PaMIR's render camera: focal length in pixels (principal point: the image centre).
PAMIR_FOCAL = 5000.0
#: Views of a calibrated turntable that are scored (degrees from the front).
TURNTABLE_VIEWS = (90, 180, 270)


class RealDataError(ValueError):
    """A benchmark folder is missing files or holds unreadable ones; the message names the file."""


@dataclass(frozen=True, eq=False)  # identity semantics: arrays do not compare to one bool
class TruthView:
    """One real view of a person."""

    name: str  # "front", "back", "view090", …
    rgb: np.ndarray  # [H, W, 3] uint8
    mask: np.ndarray  # [H, W] bool, the person
    labels: np.ndarray | None  # [H, W] int8 index into PARTS, −1 elsewhere (None: no label image)
    viewmat: np.ndarray | None  # [4, 4] world-to-camera (OpenCV axes) in the subject's frame; None: not calibrated
    K: np.ndarray | None  # [3, 3] pixels


@dataclass(frozen=True)
class RealSubject:
    """A person with a front view (the input) and the hidden views that score the avatar."""

    name: str  # path relative to the benchmark root
    front: TruthView
    hidden: tuple[TruthView, ...]
    background: np.ndarray  # [3] RGB in [0, 1], the renders' background

    @property
    def calibrated(self) -> bool:
        return self.front.viewmat is not None


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise RealDataError(f"{path} cannot be read as an image ({exc})") from None


def border_colour(rgb: np.ndarray) -> np.ndarray:
    """The median colour [3] (0–255) of the image's one-pixel border: a render's background."""
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    return np.median(border, axis=0)


def clean_mask(mask: np.ndarray, min_share: float = 0.002) -> np.ndarray:
    """``mask`` [H, W] with its holes filled and components smaller than ``min_share`` of the image dropped."""
    from scipy import ndimage

    filled = ndimage.binary_fill_holes(mask)
    labels, count = ndimage.label(filled)
    if count == 0:
        return filled
    sizes = ndimage.sum(filled, labels, np.arange(1, count + 1))
    keep = np.flatnonzero(sizes >= min_share * mask.size) + 1
    return np.isin(labels, keep)


def foreground_mask(rgb: np.ndarray, tolerance: float = 12.0) -> np.ndarray:
    """The pixels [H, W] that differ from the border's colour by more than ``tolerance`` (0–255) in some channel."""
    difference = np.abs(rgb.astype(np.float32) - border_colour(rgb)).max(-1)
    return clean_mask(difference > tolerance)


def shifted(array: np.ndarray, dx: int, dy: int, fill) -> np.ndarray:
    """``array`` [H, W, …] moved ``dx`` pixels right and ``dy`` down, uncovered pixels set to ``fill``."""
    out = np.full_like(array, fill)
    height, width = array.shape[:2]
    out[max(0, dy): height + min(0, dy), max(0, dx): width + min(0, dx)] = \
        array[max(0, -dy): height - max(0, dy), max(0, -dx): width - max(0, dx)]
    return out


def registration(moving: np.ndarray, fixed: np.ndarray, reach: tuple[int, int] = (48, 16)) -> tuple[int, int]:
    """The shift (dx, dy), within ±``reach`` pixels, that moves mask ``moving`` [H, W] onto mask ``fixed``
    [H, W] with the largest overlap (cross-correlation by FFT). Label images cut from a sheet beside
    their render can sit some pixels off it; a mask that misses parts of the person (white clothes on
    white) still overlaps best at the right shift."""
    from scipy.signal import fftconvolve

    overlap = fftconvolve(fixed.astype(np.float32), moving[::-1, ::-1].astype(np.float32), mode="full")
    height, width = moving.shape
    centre_y, centre_x = height - 1, width - 1  # zero shift
    window = overlap[centre_y - reach[1]: centre_y + reach[1] + 1, centre_x - reach[0]: centre_x + reach[0] + 1]
    dy, dx = np.unravel_index(int(np.argmax(window)), window.shape)
    return int(dx) - reach[0], int(dy) - reach[1]


def read_labels(path: Path, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Part indices [H, W] int8 (−1: none; each pixel's :data:`LABEL_COLOURS` entry within a small
    tolerance, so anti-aliased edges between parts stay unlabelled) and the person mask [H, W] of the
    label image of view ``rgb`` [H, W, 3], registered to the view (:func:`registration`)."""
    painted_rgb = _read_rgb(path).astype(np.int16)
    if painted_rgb.shape != rgb.shape:
        raise RealDataError(f"{path} is {painted_rgb.shape[1]}x{painted_rgb.shape[0]}, its view "
                            f"{rgb.shape[1]}x{rgb.shape[0]}")
    labels = np.full(rgb.shape[:2], -1, np.int8)
    for index, colour in enumerate(LABEL_COLOURS.values()):
        labels[np.abs(painted_rgb - np.array(colour)).max(-1) <= 12] = index
    painted = clean_mask(np.abs(painted_rgb - 255).max(-1) > 24)
    dx, dy = registration(painted, foreground_mask(rgb))
    return shifted(labels, dx, dy, -1), shifted(painted, dx, dy, False)


def _pair_view(path: Path, name: str) -> TruthView:
    rgb = _read_rgb(path)
    label_path = path.with_name(path.stem + "_label.png")
    if label_path.is_file():
        labels, mask = read_labels(label_path, rgb)
        return TruthView(name, rgb, mask, labels, None, None)
    return TruthView(name, rgb, foreground_mask(rgb), None, None, None)


def pamir_camera(entry, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera [4, 4] (OpenCV: x right, y down, z forward) and K [3, 3] of one ``cam_data.mat``
    entry (fields center, direction, right, up) for an image of ``size`` (width, height)."""
    def field(name: str) -> np.ndarray:
        return np.asarray(entry[name][0, 0], np.float64).reshape(3)

    rotation = np.stack([field("right"), -field("up"), field("direction")])
    viewmat = np.eye(4)
    viewmat[:3, :3] = rotation
    viewmat[:3, 3] = -rotation @ field("center")
    K = np.array([[PAMIR_FOCAL, 0.0, size[0] / 2], [0.0, PAMIR_FOCAL, size[1] / 2], [0.0, 0.0, 1.0]])
    return viewmat, K


def _turntable(folder: Path, root: Path) -> RealSubject:
    from scipy.io import loadmat

    meta = folder / "meta" / "cam_data.mat"
    try:
        cameras = loadmat(str(meta))["cam"]  # a struct array: no pickles in MAT files
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RealDataError(f"{meta} is not a PaMIR camera file ({exc})") from None
    views = []
    for degrees in (0, *TURNTABLE_VIEWS):
        path = folder / "color" / f"{degrees:04d}.jpg"
        if not path.is_file():
            raise RealDataError(f"{path} is missing")
        if degrees >= cameras.shape[1]:
            raise RealDataError(f"{meta} has no camera for view {degrees}")
        rgb = _read_rgb(path)
        viewmat, K = pamir_camera(cameras[0, degrees], (rgb.shape[1], rgb.shape[0]))
        views.append(TruthView("front" if degrees == 0 else f"view{degrees:03d}", rgb, foreground_mask(rgb), None,
                               viewmat, K))
    return RealSubject(str(folder.parent.relative_to(root)), views[0], tuple(views[1:]),
                       border_colour(views[0].rgb) / 255)


def find_subjects(root: str | Path) -> list[RealSubject]:
    """Every subject under ``root`` (see the module docstring), sorted by name; RealDataError if none."""
    root = Path(root)
    if not root.is_dir():
        raise RealDataError(f"{root} is not a folder")
    subjects = []
    for front in sorted(root.rglob("*_front.png")):
        back = front.with_name(front.name.replace("_front.png", "_back.png"))
        if back.is_file():
            view = _pair_view(front, "front")
            subjects.append(RealSubject(str(front.relative_to(root).with_name(front.name[:-len("_front.png")])),
                                        view, (_pair_view(back, "back"),), border_colour(view.rgb) / 255))
    for meta in sorted(root.rglob("mv_renders/meta/cam_data.mat")):
        subjects.append(_turntable(meta.parent.parent, root))
    if not subjects:
        raise RealDataError(f"{root} holds no front/back pairs (NAME_front.png + NAME_back.png) and no calibrated "
                            "turntables (mv_renders/color + mv_renders/meta/cam_data.mat)")
    return sorted(subjects, key=lambda s: s.name)
