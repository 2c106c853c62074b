"""Contact sheets: images scaled to one height and laid out in rows (uint8 RGB, [H, W, 3])."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def to_height(image: np.ndarray, height: int) -> np.ndarray:
    """``image`` (uint8, or float in [0, 1]) scaled to ``height`` pixels, aspect kept, as uint8."""
    from PIL import Image

    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    picture = Image.fromarray(image)
    width = max(1, round(picture.width * height / picture.height))
    return np.asarray(picture.resize((width, height), Image.Resampling.BILINEAR))


def stack_rows(rows: Sequence[np.ndarray], fill: int = 0) -> np.ndarray:
    """``rows`` of any widths one under the other, each padded on the right with ``fill`` to the widest."""
    width = max(r.shape[1] for r in rows)
    return np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=fill)
                           for r in rows], 0)


def grid(tiles: Sequence[np.ndarray], columns: int, fill: int = 0) -> np.ndarray:
    """``tiles`` of one height in rows of ``columns`` cells, each cell as wide as the widest tile."""
    width = max(t.shape[1] for t in tiles)
    cells = [np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0)), constant_values=fill) for t in tiles]
    rows = [np.concatenate(cells[i: i + columns], 1) for i in range(0, len(cells), columns)]
    return stack_rows(rows, fill)
