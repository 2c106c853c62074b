"""The document: what the window is showing and editing, kept apart from the widgets (napari-style).

Holds the photo, the person observation, the body fit, the avatar (as reconstructed, and reshaped by
the shape panel), the pose shown when no motion plays, and the user's fit-editor pins and locks.
Every edit of the pose, the shape or the fit goes through ``undo_stack``; views listen to the
signals and never change the document behind its back. ``dirty`` is true while the avatar has
changes that are not in a saved bundle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.avatar.avatar import Avatar
from core.body.joints import JOINT_NAMES, NUM_JOINTS
from core.detect.person import PersonObservation
from core.fit.result import BodyFit
from core.io.images import Photo


class _Edit(QUndoCommand):
    """Replace one document value (``pose``, ``shape`` or ``fit``); consecutive edits with the same
    ``merge`` key (one slider drag) collapse into one undo step."""

    def __init__(self, document: AvatarDocument, field: str, old, new, text: str,
                 merge: tuple | None = None) -> None:
        super().__init__(text)
        self.document, self.field, self.old, self.new, self.merge = document, field, old, new, merge

    def id(self) -> int:
        return 1 if self.merge is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _Edit) or other.field != self.field or other.merge != self.merge:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.document._apply(self.field, self.new)

    def undo(self) -> None:
        self.document._apply(self.field, self.old)


class AvatarDocument(QObject):
    """The current photo, fit, avatar and pose, with signals on change and an undo stack."""

    photo_changed = Signal()  # photo and observation replaced (or cleared)
    fit_changed = Signal()
    avatar_changed = Signal()  # the avatar replaced or reshaped
    pose_changed = Signal()
    constraints_changed = Signal()  # pins or locks edited
    dirty_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.photo: Photo | None = None
        self.observation: PersonObservation | None = None
        self.fit: BodyFit | None = None
        self.base_avatar: Avatar | None = None  # as reconstructed; ``avatar`` is it reshaped to ``shape``
        self.avatar: Avatar | None = None
        self.body = None  # the BodyModel the avatar is bound to
        self.pose = np.zeros((NUM_JOINTS, 3), np.float32)  # [55, 3] rotation vectors, radians
        self.pins: dict[str, tuple[float, float]] = {}  # fit editor: keypoint name → photo pixel
        self.locked: set[str] = set()
        self.path: Path | None = None  # the bundle this avatar was saved to or opened from
        self._unsaved = False
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    def _on_clean_changed(self, _clean: bool) -> None:
        self.dirty_changed.emit(self.dirty)

    # ---------------------------------------------------------------- state
    @property
    def dirty(self) -> bool:
        return self.avatar is not None and (self._unsaved or not self.undo_stack.isClean())

    @property
    def shape(self) -> np.ndarray | None:
        return None if self.avatar is None else self.avatar.shape

    def set_reconstruction(self, body, photo: Photo | None, observation: PersonObservation | None,
                           fit: BodyFit | None, avatar: Avatar, path: Path | None = None,
                           unsaved: bool | None = None) -> None:
        """Adopt a finished reconstruction (or an opened bundle at ``path``): shown in the photo's pose,
        undo history cleared, unsaved unless it came from ``path`` (or as ``unsaved`` says)."""
        self.undo_stack.clear()
        self.body = body
        self.photo, self.observation, self.fit = photo, observation, fit
        self.base_avatar = self.avatar = avatar
        self.pins = dict(fit.pins) if fit is not None else {}
        self.locked = set(fit.locked) if fit is not None else set()
        self.pose = fit.pose.copy() if fit is not None else np.zeros((NUM_JOINTS, 3), np.float32)
        self.path = path
        self._unsaved = path is None if unsaved is None else unsaved
        for signal in (self.photo_changed, self.fit_changed, self.avatar_changed, self.pose_changed,
                       self.constraints_changed):
            signal.emit()
        self.dirty_changed.emit(self.dirty)

    def replace_avatar(self, avatar: Avatar) -> None:
        """A rebuilt avatar for the current fit ("Update avatar"); keeps the pose and the history."""
        self.base_avatar = self.avatar = avatar
        self._unsaved = True
        self.avatar_changed.emit()
        self.dirty_changed.emit(self.dirty)

    # ---------------------------------------------------------------- undoable edits
    def set_pose(self, pose: np.ndarray, text: str = "Pose", merge: tuple | None = None) -> None:
        """Show ``pose`` [55, 3] (radians); ``merge`` groups the steps of one slider drag."""
        pose = np.asarray(pose, np.float32).reshape(NUM_JOINTS, 3).copy()
        if not np.array_equal(pose, self.pose):
            self.undo_stack.push(_Edit(self, "pose", self.pose.copy(), pose, text, merge))

    def set_joint(self, joint: int, rotation: np.ndarray, merge: tuple | None = None) -> None:
        """Set one joint's rotation vector [3] (radians)."""
        pose = self.pose.copy()
        pose[joint] = rotation
        self.set_pose(pose, f"Rotate {JOINT_NAMES[joint].replace('_', ' ')}", merge)

    def set_shape(self, shape: np.ndarray, merge: tuple | None = None) -> None:
        """Reshape the avatar's body to ``shape`` [S] (the base avatar is never changed)."""
        if self.avatar is None:
            return
        shape = np.asarray(shape, np.float32).reshape(-1).copy()
        if not np.array_equal(shape, self.avatar.shape):
            self.undo_stack.push(_Edit(self, "shape", self.avatar.shape.copy(), shape, "Change body shape", merge))

    def set_fit(self, fit: BodyFit, text: str = "Refit") -> None:
        """A new body fit (e.g. after Refit); the avatar is rebuilt from it only on "Update avatar"."""
        self.undo_stack.push(_Edit(self, "fit", self.fit, fit, text))

    def _apply(self, field: str, value) -> None:
        if field == "pose":
            self.pose = value.copy()
            self.pose_changed.emit()
        elif field == "shape":
            same = np.array_equal(value, self.base_avatar.shape)
            self.avatar = self.base_avatar if same else self.base_avatar.reshaped(self.body, value)
            self.avatar_changed.emit()
        else:
            self.fit = value
            self.fit_changed.emit()

    # ---------------------------------------------------------------- fit editor constraints
    def pin(self, name: str, pixel: tuple[float, float] | None) -> None:
        """Pin keypoint ``name`` to a photo pixel (None removes the pin)."""
        if pixel is None:
            self.pins.pop(name, None)
        else:
            self.pins[name] = (float(pixel[0]), float(pixel[1]))
        self.constraints_changed.emit()

    def lock(self, joint: str, locked: bool) -> None:
        (self.locked.add if locked else self.locked.discard)(joint)
        self.constraints_changed.emit()

    def clear_constraints(self) -> None:
        self.pins, self.locked = {}, set()
        self.constraints_changed.emit()

    # ---------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """Write the avatar bundle to ``path`` (atomic); the document is then clean."""
        from core.persist.bundle import save_bundle

        if self.avatar is None:
            raise ValueError("there is no avatar to save yet")
        written = save_bundle(path, self.avatar, self.fit, None if self.photo is None else self.photo.rgb)
        self.path = Path(written)
        self._unsaved = False
        self.undo_stack.setClean()
        self.dirty_changed.emit(False)
        return self.path
