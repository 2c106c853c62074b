"""The shape panel: one slider per shape parameter of the avatar's body model (undoable)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QPushButton, QSlider, QWidget

from app.document import AvatarDocument

_STEPS = 1000  # slider resolution over a parameter's range


class ShapePanel(QWidget):
    """Sliders over each :class:`core.body.model.ShapeParameter`'s range; applied on release."""

    def __init__(self, document: AvatarDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.sliders: list[QSlider] = []
        self._parameters = ()
        self._layout = QFormLayout(self)
        self.reset_button = QPushButton("Back to the fitted shape")
        self.reset_button.clicked.connect(self.reset)
        self.hint = QLabel("Reconstruct a photo or open an avatar to change its body.")
        self.hint.setWordWrap(True)
        self._layout.addRow(self.hint)
        self._layout.addRow(self.reset_button)
        document.avatar_changed.connect(self._sync)
        self._sync()

    def reset(self) -> None:
        if self.document.base_avatar is not None:
            self.document.set_shape(self.document.base_avatar.shape)

    def _build(self) -> None:
        parameters = self.document.body.shape_parameters
        if parameters == self._parameters:
            return
        for slider in self.sliders:
            self._layout.removeRow(slider)
        self.sliders = []
        for parameter in parameters:
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, _STEPS)
            slider.setTracking(False)  # reshaping moves every Gaussian: once per release, not per pixel
            slider.setToolTip(parameter.description or parameter.name)
            slider.valueChanged.connect(self._on_slider)
            self._layout.addRow(parameter.name.replace("_", " "), slider)
            self.sliders.append(slider)
        self._parameters = parameters

    def _on_slider(self, _value: int) -> None:
        shape = np.array([p.minimum + (p.maximum - p.minimum) * s.value() / _STEPS
                          for p, s in zip(self._parameters, self.sliders, strict=True)], np.float32)
        current = self.document.shape
        # keep the exact fitted value of every parameter whose slider did not move
        unmoved = [abs(a - b) <= (p.maximum - p.minimum) / _STEPS
                   for a, b, p in zip(shape, current, self._parameters, strict=True)]
        shape[unmoved] = current[unmoved]
        self.document.set_shape(shape)

    def _sync(self) -> None:
        has_avatar = self.document.avatar is not None
        self.hint.setVisible(not has_avatar)
        self.reset_button.setEnabled(has_avatar)
        if not has_avatar:
            return
        self._build()
        for parameter, slider, value in zip(self._parameters, self.sliders, self.document.shape, strict=True):
            slider.blockSignals(True)
            slider.setValue(round((value - parameter.minimum) / (parameter.maximum - parameter.minimum) * _STEPS))
            slider.blockSignals(False)
