"""Loading photos robustly: any common format and mode in, an RGB (+ alpha) photo out, or one typed error.

- Formats: whatever Pillow decodes (JPEG, PNG, WebP, BMP, TIFF, GIF, …); animated files give their
  first frame.
- EXIF orientation is applied, so the pixels are upright as the camera showed them.
- Modes: greyscale, 1-bit, 16-bit and 32-bit integer, float, CMYK, YCbCr, palette (with its
  transparency) all become 8-bit RGB; an alpha channel is kept (an RGBA cut-out's alpha is the
  person mask).
- Limits: more than ``max_pixels`` is refused before decoding (decompression bombs); photos larger
  than ``max_side`` are downscaled for processing while the original stays available for texture
  sampling.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.limits import how_to_raise, limit

#: Default longest side of the processing copy.
MAX_SIDE = 2048


class ImageLoadError(ValueError):
    """A file that cannot be used as a photo; ``str(err)`` tells the user why and what to do."""


@dataclass(frozen=True)
class Photo:
    """A loaded photo: ``rgb`` [H, W, 3] uint8 (processing size), ``alpha`` [H, W] uint8 or None,
    the full-resolution ``original_rgb`` / ``original_alpha``, and ``scale`` = processing / original."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    original_rgb: np.ndarray
    original_alpha: np.ndarray | None
    scale: float
    source: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the processing copy, pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]


def _to_rgba_or_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB or RGBA from any Pillow mode."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        data = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or data.max() > 255 else 255.0
        if image.mode == "F" and data.max() <= 1.0:
            top = 1.0
        grey = (np.clip(data / top, 0, 1) * 255 + 0.5).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return image.convert("RGBA")
    return image.convert("RGB")


def load_image(path: str | os.PathLike[str], max_pixels: int | None = None, max_side: int = MAX_SIDE) -> Photo:
    """Load ``path`` as a :class:`Photo`; raises :class:`ImageLoadError` for anything unusable.
    ``max_pixels`` defaults to :func:`core.limits.limit` ``("image_pixels")``."""
    path = Path(path)
    max_pixels = limit("image_pixels", max_pixels)
    if path.is_dir():
        raise ImageLoadError(f"{path} is a folder; choose an image file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit applies below
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageLoadError(
                        f"{path.name} is {width}x{height} ({width * height / 1e6:.0f} megapixels), more than the "
                        f"limit of {max_pixels / 1e6:.0f} megapixels; downscale it first, or "
                        f"{how_to_raise('image_pixels')}")
                if width == 0 or height == 0:
                    raise ImageLoadError(f"{path.name} has no pixels")
                if getattr(image, "n_frames", 1) > 1:
                    image.seek(0)  # animated: the first frame
                image.load()
                upright = ImageOps.exif_transpose(image)
                converted = _to_rgba_or_rgb(upright)
    except ImageLoadError:
        raise
    except FileNotFoundError:
        raise ImageLoadError(f"{path} does not exist") from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"{path.name} is not an image Avatarium can read (JPEG, PNG, WebP, BMP, TIFF…)") from None
    except Image.DecompressionBombError:
        raise ImageLoadError(f"{path.name} has more pixels than can be decoded safely (over "
                             f"{2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels); downscale it first") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated or corrupt data
        raise ImageLoadError(f"{path.name} is damaged or truncated and cannot be decoded ({exc})") from None
    except MemoryError:
        raise ImageLoadError(f"{path.name} needs more memory to decode than is available") from None
    array = np.asarray(converted)
    original_rgb = np.ascontiguousarray(array[..., :3])
    original_alpha = np.ascontiguousarray(array[..., 3]) if array.shape[-1] == 4 else None
    longest = max(converted.size)
    if longest <= max_side:
        return Photo(original_rgb, original_alpha, original_rgb, original_alpha, 1.0, path)
    scale = max_side / longest
    size = (max(1, round(converted.size[0] * scale)), max(1, round(converted.size[1] * scale)))
    small = np.asarray(converted.resize(size, Image.Resampling.LANCZOS))
    alpha = np.ascontiguousarray(small[..., 3]) if small.shape[-1] == 4 else None
    return Photo(np.ascontiguousarray(small[..., :3]), alpha, original_rgb, original_alpha, scale, path)


def crop_photo(photo: Photo, box: tuple[int, int, int, int]) -> Photo:
    """The part of ``photo`` inside ``box`` (x0, y0, x1, y1 in processing-copy pixels, clipped to the
    photo), e.g. one person of a group photo; the original is cropped to the same region."""
    width, height = photo.size
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(width, int(box[2])), min(height, int(box[3]))
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError(f"the crop box {tuple(box)} leaves no pixels of the {width}x{height} photo")
    inv = 1.0 / photo.scale
    ox0, oy0 = int(x0 * inv), int(y0 * inv)
    ox1, oy1 = max(ox0 + 1, int(round(x1 * inv))), max(oy0 + 1, int(round(y1 * inv)))

    def cut(array: np.ndarray | None, a: int, b: int, c: int, d: int) -> np.ndarray | None:
        return None if array is None else np.ascontiguousarray(array[b:d, a:c])

    return Photo(cut(photo.rgb, x0, y0, x1, y1), cut(photo.alpha, x0, y0, x1, y1),
                 cut(photo.original_rgb, ox0, oy0, ox1, oy1), cut(photo.original_alpha, ox0, oy0, ox1, oy1),
                 photo.scale, photo.source)
