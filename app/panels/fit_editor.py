"""The fit editor: the photo with the fitted body's silhouette, skeleton and keypoint handles.

Drag a handle to pin that keypoint to a pixel (right-click a handle to unpin it), lock joints,
then Refit (a background job) and Update avatar. For a photo with several people it shows each
person's box; a click inside one chooses that person.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.document import AvatarDocument
from app.images import rgb_to_qimage
from app.panels.pose_panel import joint_label
from core.body.joints import JOINT_NAMES, KEYPOINT_NAMES

#: Keypoints offered as handles: COCO-17 (the feet's extra points sit on top of the ankles).
HANDLES = KEYPOINT_NAMES[:17]
_GRAB_PX = 12.0  # how close (screen pixels) a press must be to grab a handle


class PhotoCanvas(QWidget):
    """Draws the photo (with overlay) scaled to fit; maps between widget and photo pixels."""

    pin_dropped = Signal(str, float, float)  # keypoint name, photo x, y
    unpin = Signal(str)
    person_chosen = Signal(object)  # (x0, y0, x1, y1) photo pixels

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image: QImage | None = None
        self.image_size = (1, 1)
        self.handles: dict[str, np.ndarray] = {}  # name → photo pixel [2]
        self.pins: dict[str, tuple[float, float]] = {}
        self.boxes: list[tuple[int, int, int, int]] = []
        self._dragging: str | None = None
        self._drag_at: QPointF | None = None

    def set_content(self, rgb: np.ndarray | None, handles: dict[str, np.ndarray], pins: dict,
                    boxes: list | None = None) -> None:
        self.image = None if rgb is None else rgb_to_qimage(rgb)
        self.image_size = (1, 1) if rgb is None else (rgb.shape[1], rgb.shape[0])
        self.handles, self.pins, self.boxes = handles, dict(pins), list(boxes or [])
        self.update()

    # ---------------------------------------------------------------- coordinates
    def _scale_offset(self) -> tuple[float, float, float]:
        width, height = self.image_size
        scale = min(self.width() / width, self.height() / height)
        return scale, (self.width() - width * scale) / 2, (self.height() - height * scale) / 2

    def to_widget(self, x: float, y: float) -> QPointF:
        scale, ox, oy = self._scale_offset()
        return QPointF(ox + x * scale, oy + y * scale)

    def to_photo(self, point: QPointF) -> tuple[float, float]:
        scale, ox, oy = self._scale_offset()
        return (point.x() - ox) / scale, (point.y() - oy) / scale

    def handle_at(self, point: QPointF) -> str | None:
        best, best_distance = None, _GRAB_PX
        for name in self.handles:
            at = self.to_widget(*self.pins.get(name, self.handles[name]))
            distance = float(np.hypot(at.x() - point.x(), at.y() - point.y()))
            if distance < best_distance:
                best, best_distance = name, distance
        return best

    # ---------------------------------------------------------------- painting
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(30, 31, 36))
        if self.image is None:
            painter.setPen(QColor(170, 170, 170))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             "Drop a photo of one person onto the window\n(or File → Open).")
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        scale, ox, oy = self._scale_offset()
        width, height = self.image_size
        painter.drawImage(QRectF(ox, oy, width * scale, height * scale), self.image)
        for index, (x0, y0, x1, y1) in enumerate(self.boxes):
            painter.setPen(QPen(QColor(255, 200, 40), 2))
            top_left, bottom_right = self.to_widget(x0, y0), self.to_widget(x1, y1)
            painter.drawRect(QRectF(top_left, bottom_right))
            painter.drawText(top_left + QPointF(4, 14), f"person {index + 1}: click to choose")
        for name, (x, y) in self.handles.items():
            at = self.to_widget(x, y)
            if name in self.pins:
                pin = self.to_widget(*self.pins[name])
                painter.setPen(QPen(QColor(255, 60, 200), 1.5, Qt.PenStyle.DashLine))
                painter.drawLine(at, pin)
                painter.setPen(QPen(QColor(255, 60, 200), 2.5))
                painter.drawLine(pin + QPointF(-6, -6), pin + QPointF(6, 6))
                painter.drawLine(pin + QPointF(-6, 6), pin + QPointF(6, -6))
            painter.setPen(QPen(QColor(20, 20, 20), 1))
            painter.setBrush(QColor(255, 230, 80) if name == self._dragging else QColor(80, 200, 255))
            painter.drawEllipse(at, 5, 5)
        if self._dragging is not None and self._drag_at is not None:
            painter.setPen(QPen(QColor(255, 60, 200), 2))
            painter.drawEllipse(self._drag_at, 7, 7)

    # ---------------------------------------------------------------- mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        point = event.position()
        if self.boxes and event.button() == Qt.MouseButton.LeftButton:
            x, y = self.to_photo(point)
            for box in self.boxes:
                if box[0] <= x <= box[2] and box[1] <= y <= box[3]:
                    self.person_chosen.emit(box)
                    return
            return
        name = self.handle_at(point)
        if name is None:
            return
        if event.button() == Qt.MouseButton.RightButton:
            self.unpin.emit(name)
        elif event.button() == Qt.MouseButton.LeftButton:
            self._dragging, self._drag_at = name, point
            self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging is not None:
            self._drag_at = event.position()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging is None:
            return
        name, self._dragging, self._drag_at = self._dragging, None, None
        x, y = self.to_photo(event.position())
        width, height = self.image_size
        self.pin_dropped.emit(name, min(max(x, 0.0), width - 1.0), min(max(y, 0.0), height - 1.0))
        self.update()


class FitEditor(QWidget):
    """The canvas plus Refit / Update avatar / Clear pins and joint locks."""

    refit_requested = Signal()
    update_requested = Signal()
    person_chosen = Signal(object)

    def __init__(self, document: AvatarDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas = PhotoCanvas()
        self.canvas.pin_dropped.connect(lambda name, x, y: document.pin(name, (x, y)))
        self.canvas.unpin.connect(lambda name: document.pin(name, None))
        self.canvas.person_chosen.connect(self._choose)
        self.refit_button = QPushButton("Refit")
        self.refit_button.setToolTip("Fit the body again, holding the pinned points and locked joints")
        self.refit_button.clicked.connect(self.refit_requested)
        self.update_button = QPushButton("Update avatar")
        self.update_button.setToolTip("Rebuild the avatar from the current fit")
        self.update_button.clicked.connect(self.update_requested)
        self.clear_button = QPushButton("Clear pins")
        self.clear_button.clicked.connect(document.clear_constraints)
        self.lock_joint = QComboBox()
        self.lock_joint.addItems([joint_label(n) for n in JOINT_NAMES[:22]])
        self.lock_button = QPushButton("Lock")
        self.lock_button.setCheckable(True)
        self.lock_button.toggled.connect(self._on_lock)
        self.lock_joint.currentIndexChanged.connect(self._sync_lock)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for widget in (self.refit_button, self.update_button, self.clear_button):
            buttons.addWidget(widget)
        locks = QHBoxLayout()
        locks.addWidget(QLabel("Joint"))
        locks.addWidget(self.lock_joint, 1)
        locks.addWidget(self.lock_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addLayout(locks)
        self._overlay: np.ndarray | None = None
        self._handles: dict[str, np.ndarray] = {}
        self._boxes: list = []
        self._rebuild_timer = QTimer(self)  # a new reconstruction changes photo and fit: draw once
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.setInterval(0)
        self._rebuild_timer.timeout.connect(self._rebuild)
        document.photo_changed.connect(self._rebuild_timer.start)
        document.fit_changed.connect(self._rebuild_timer.start)
        document.constraints_changed.connect(self._refresh)
        self._rebuild()

    def show_people(self, rgb: np.ndarray, boxes: list) -> None:
        """A photo with several people (not yet in the document): their boxes until one is chosen."""
        self._overlay, self._handles, self._boxes = rgb, {}, list(boxes)
        self.status.setText(f"{len(boxes)} people found: click the one to reconstruct.")
        self._refresh()

    def show_detection(self, photo, observation) -> None:
        """A photo being reconstructed (not yet in the document): its person mask and keypoints."""
        from core.fit.overlay import draw_observation

        self._overlay, self._handles, self._boxes = draw_observation(photo.rgb, observation), {}, []
        self._refresh()
        self.status.setText("Person found; fitting the body and building the avatar…")

    def show_frame(self, rgb: np.ndarray | None, message: str) -> None:
        """A video frame with a captured body drawn over it (nothing to edit), or just ``message``."""
        self._overlay, self._handles, self._boxes = rgb, {}, []
        self._refresh()
        self.status.setText(message)

    def restore(self) -> None:
        """Back to the document's photo and fit (after a cancelled or failed reconstruction)."""
        self._rebuild_timer.stop()
        self._rebuild()

    def _choose(self, box) -> None:
        self._boxes = []
        self.person_chosen.emit(box)

    def _selected_joint(self) -> str:
        return JOINT_NAMES[self.lock_joint.currentIndex()]

    def _on_lock(self, on: bool) -> None:
        self.lock_button.setText("Unlock" if on else "Lock")
        if (self._selected_joint() in self.document.locked) != on:
            self.document.lock(self._selected_joint(), on)

    def _sync_lock(self) -> None:
        self.lock_button.blockSignals(True)
        locked = self._selected_joint() in self.document.locked
        self.lock_button.setChecked(locked)
        self.lock_button.setText("Unlock" if locked else "Lock")
        self.lock_button.blockSignals(False)

    def _rebuild(self) -> None:
        """Recompute the overlay and handles after the photo or the fit changed."""
        from core.fit.overlay import draw_overlay, fitted_keypoints

        doc = self.document
        self._boxes = []
        self._handles = {}
        if doc.photo is None:
            self._overlay = None
        elif doc.fit is None or doc.observation is None or doc.body is None:
            self._overlay = doc.photo.rgb
        else:
            self._overlay = draw_overlay(doc.photo.rgb, doc.observation, doc.fit, doc.body)
            points = fitted_keypoints(doc.body, doc.fit)
            self._handles = {name: points[KEYPOINT_NAMES.index(name)] for name in HANDLES}
        self._refresh()

    def _refresh(self) -> None:
        doc = self.document
        self.canvas.set_content(self._overlay, self._handles, doc.pins, self._boxes)
        can_edit = bool(self._handles)
        for widget in (self.refit_button, self.clear_button, self.lock_joint, self.lock_button):
            widget.setEnabled(can_edit)
        self.update_button.setEnabled(can_edit)
        self._sync_lock()
        if self._boxes:
            return
        if doc.fit is None:
            self.status.setText("" if doc.photo is None else "This avatar has no body fit to edit.")
        else:
            locked = ", ".join(joint_label(j) for j in sorted(doc.locked)) or "none"
            self.status.setText(f"Fit quality {doc.fit.quality:.2f}, keypoint error {doc.fit.mean_residual:.1f} px. "
                                f"Pins: {len(doc.pins)}; locked: {locked}. Drag a dot to pin it.")
