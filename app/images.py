"""Conversions between Qt images and NumPy arrays."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QImage


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """RGB uint8 copy [H, W, 3] of ``image`` (any format; alpha dropped)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : 3 * image.width()].reshape(image.height(), image.width(), 3).copy()


def encode_image(image: QImage, fmt: str) -> bytes:
    """``image`` encoded as ``fmt`` ("PNG", "JPG", …); raises OSError for a format Qt cannot write."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, fmt.upper()):
        raise OSError(f"cannot encode a .{fmt.lower()} image; use .png or .jpg")
    return bytes(buffer.data())


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage owning a copy of RGB uint8 ``rgb`` [H, W, 3]."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
