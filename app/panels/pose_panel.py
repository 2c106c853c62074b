"""The pose panel: the SMPL-X joint tree, three rotation sliders per joint within its limits, joint
search, mirror, reset and whole-body presets. Every change goes to the document (undoable)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.document import AvatarDocument
from core.body.joints import JOINT_LIMITS, JOINT_NAMES, PARENTS, mirror_pose
from core.body.motions import pose_presets

_AXES = ("x  (left)", "y  (up)", "z  (forward)")
PHOTO_POSE = "The photo's pose"


def joint_label(name: str) -> str:
    return name.replace("_smplhf", "").replace("_", " ")


class PosePanel(QWidget):
    """Edits ``document.pose``; the sliders are whole degrees inside :data:`JOINT_LIMITS`."""

    def __init__(self, document: AvatarDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.joint = JOINT_NAMES.index("left_shoulder")
        self._drags = itertools.count(1)
        self._drag = 0
        self.search = QLineEdit(placeholderText="Find a joint…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.items: list[QTreeWidgetItem] = []
        for index, name in enumerate(JOINT_NAMES):
            item = QTreeWidgetItem([joint_label(name)])
            item.setData(0, Qt.ItemDataRole.UserRole, index)
            parent_index = PARENTS[index]
            (self.items[parent_index].addChild(item) if parent_index >= 0 else self.tree.addTopLevelItem(item))
            self.items.append(item)
        self.tree.expandToDepth(6)
        self.tree.currentItemChanged.connect(self._on_item)
        grid = QGridLayout()
        self.title = QLabel()
        grid.addWidget(self.title, 0, 0, 1, 3)
        self.sliders: list[QSlider] = []
        self.values: list[QLabel] = []
        for axis, label in enumerate(_AXES):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.valueChanged.connect(lambda value, a=axis: self._on_slider(a, value))
            slider.sliderPressed.connect(self._new_drag)
            value = QLabel("0°")
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("-180°"))
            grid.addWidget(QLabel(label), axis + 1, 0)
            grid.addWidget(slider, axis + 1, 1)
            grid.addWidget(value, axis + 1, 2)
            self.sliders.append(slider)
            self.values.append(value)
        buttons = QHBoxLayout()
        self.reset_joint_button = QPushButton("Reset joint")
        self.reset_joint_button.clicked.connect(self.reset_joint)
        self.mirror_button = QPushButton("Mirror L↔R")
        self.mirror_button.setToolTip("Swap the left and right sides of the pose")
        self.mirror_button.clicked.connect(self.mirror)
        self.reset_all_button = QPushButton("Reset all")
        self.reset_all_button.setToolTip("Back to the T-pose")
        self.reset_all_button.clicked.connect(lambda: self.apply_preset("T-pose"))
        for button in (self.reset_joint_button, self.mirror_button, self.reset_all_button):
            buttons.addWidget(button)
        self.presets = QComboBox()
        self.presets.addItem("Pose preset…")
        self.presets.addItems([PHOTO_POSE, *pose_presets()])
        self.presets.activated.connect(lambda i: self.apply_preset(self.presets.itemText(i)) if i else None)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.presets)
        document.pose_changed.connect(self._sync)
        document.avatar_changed.connect(self._sync)
        self.select_joint(JOINT_NAMES[self.joint])

    # ---------------------------------------------------------------- actions
    def select_joint(self, name: str) -> None:
        self.tree.setCurrentItem(self.items[JOINT_NAMES.index(name)])

    def reset_joint(self) -> None:
        self.document.set_joint(self.joint, np.zeros(3, np.float32))

    def mirror(self) -> None:
        import torch

        self.document.set_pose(mirror_pose(torch.tensor(self.document.pose)).numpy(), "Mirror the pose")

    def apply_preset(self, name: str) -> None:
        if name == PHOTO_POSE:
            if self.document.fit is not None:
                self.document.set_pose(self.document.fit.pose, "The photo's pose")
        else:
            self.document.set_pose(pose_presets()[name].numpy(), name)
        self.presets.setCurrentIndex(0)

    # ---------------------------------------------------------------- internals
    def _filter(self, text: str) -> None:
        text = text.strip().lower().replace("_", " ")
        first = None
        for item in self.items:
            match = not text or text in item.text(0)
            item.setHidden(not match and not any(text in c.text(0) for c in _descendants(item)))
            if match and first is None and text:
                first = item
        if first is not None:
            self.tree.setCurrentItem(first)

    def _on_item(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        if item is None:
            return
        self.joint = int(item.data(0, Qt.ItemDataRole.UserRole))
        self.title.setText(f"<b>{joint_label(JOINT_NAMES[self.joint])}</b>")
        limits = np.degrees(JOINT_LIMITS[self.joint].numpy())
        for axis, slider in enumerate(self.sliders):
            slider.blockSignals(True)
            slider.setRange(math.floor(limits[axis, 0]), math.ceil(limits[axis, 1]))
            slider.blockSignals(False)
        self._sync()

    def _new_drag(self) -> None:
        self._drag = next(self._drags)

    def _on_slider(self, axis: int, value: int) -> None:
        rotation = self.document.pose[self.joint].copy()
        rotation[axis] = math.radians(value)
        self.values[axis].setText(f"{value}°")
        dragging = self.sliders[axis].isSliderDown()
        merge = (self.joint, axis, self._drag) if dragging else None
        self.document.set_joint(self.joint, rotation, merge)

    def _sync(self) -> None:
        """Show the document's rotation of the selected joint without echoing it back."""
        rotation = np.degrees(self.document.pose[self.joint])
        for axis, slider in enumerate(self.sliders):
            slider.blockSignals(True)
            slider.setValue(round(float(rotation[axis])))
            slider.blockSignals(False)
            self.values[axis].setText(f"{rotation[axis]:.0f}°")
        self.setEnabled(self.document.avatar is not None)


def _descendants(item: QTreeWidgetItem):
    for i in range(item.childCount()):
        child = item.child(i)
        yield child
        yield from _descendants(child)
