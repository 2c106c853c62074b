"""Preferences kept with QSettings (body model, quality preset, network backend, background colour,
threads, person-mask sharpening, recent files, window geometry) and the dialog that edits them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core.pipeline import PRESETS

BACKENDS = ("torch", "onnxruntime")
MAX_RECENT = 10


@dataclass
class Preferences:
    """What the user chose; ``load``/``save`` read and write them in a QSettings store."""

    body_model: str = "anny"
    smplx_dir: str = ""
    preset: str = "balanced"
    backend: str = "torch"
    background: str = "#26282e"
    threads: int = 1
    sharpen_mask: bool = True  # GrabCut on mediapipe's person mask (core.detect.person.refine_mask)

    @classmethod
    def load(cls, settings: QSettings) -> Preferences:
        default = cls()

        def choice(key: str, options, fallback: str) -> str:
            value = str(settings.value(key, fallback))
            return value if value in options else fallback

        try:
            threads = max(1, min(64, int(settings.value("threads", default.threads))))
        except (TypeError, ValueError):
            threads = default.threads
        background = str(settings.value("background", default.background))
        sharpen = str(settings.value("sharpen_mask", default.sharpen_mask)).lower() not in ("false", "0")
        return cls(choice("body_model", ("anny", "smplx"), default.body_model),
                   str(settings.value("smplx_dir", default.smplx_dir)),
                   choice("preset", tuple(PRESETS), default.preset), choice("backend", BACKENDS, default.backend),
                   background if QColor(background).isValid() else default.background, threads, sharpen)

    def save(self, settings: QSettings) -> None:
        for key, value in vars(self).items():
            settings.setValue(key, value)
        settings.sync()


def recent_files(settings: QSettings) -> list[str]:
    value = settings.value("recent_files", [])
    items = [value] if isinstance(value, str) else list(value or [])
    return [str(item) for item in items if item][:MAX_RECENT]


def add_recent_file(settings: QSettings, path: str | Path) -> list[str]:
    """Put ``path`` first in the recent-files list; the new list."""
    path = str(Path(path).resolve())
    items = [path] + [item for item in recent_files(settings) if item != path]
    settings.setValue("recent_files", items[:MAX_RECENT])
    return items[:MAX_RECENT]


class PreferencesDialog(QDialog):
    """Edits a :class:`Preferences`; ``result_preferences()`` after ``accept``."""

    def __init__(self, preferences: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.body = QComboBox()
        self.body.addItems(["anny", "smplx"])
        self.body.setCurrentText(preferences.body_model)
        self.smplx_dir = QLineEdit(preferences.smplx_dir, placeholderText="folder holding SMPLX_NEUTRAL.npz")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        smplx_row = QHBoxLayout()
        smplx_row.addWidget(self.smplx_dir, 1)
        smplx_row.addWidget(browse)
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.setCurrentText(preferences.preset)
        self.backend = QComboBox()
        self.backend.addItems(list(BACKENDS))
        self.backend.setCurrentText(preferences.backend)
        self.background = QColor(preferences.background)
        self.background_button = QPushButton(self.background.name())
        self.background_button.clicked.connect(self._pick_colour)
        self.threads = QSpinBox(minimum=1, maximum=64, value=preferences.threads)
        self.threads.setToolTip("torch CPU threads for reconstruction (1 is best on two-core machines)")
        self.sharpen_mask = QCheckBox("Sharpen it to the photo's edges (GrabCut)", checked=preferences.sharpen_mask)
        self.sharpen_mask.setToolTip("off: keep mediapipe's own mask, a pixel or two off the person's outline")
        form = QFormLayout(self)
        form.addRow("Body model", self.body)
        form.addRow("SMPL-X folder", smplx_row)
        form.addRow("Quality preset", self.preset)
        form.addRow("Network backend", self.backend)
        form.addRow("Background", self.background_button)
        form.addRow("Threads", self.threads)
        form.addRow("Person mask", self.sharpen_mask)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "SMPL-X model folder", self.smplx_dir.text())
        if folder:
            self.smplx_dir.setText(folder)

    def _pick_colour(self) -> None:
        colour = QColorDialog.getColor(self.background, self, "Background colour")
        if colour.isValid():
            self.background = colour
            self.background_button.setText(colour.name())

    def result_preferences(self) -> Preferences:
        return Preferences(self.body.currentText(), self.smplx_dir.text().strip(), self.preset.currentText(),
                           self.backend.currentText(), self.background.name(), self.threads.value(),
                           self.sharpen_mask.isChecked())
