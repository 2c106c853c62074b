"""Size limits on what Avatarium reads, checked before anything big is allocated.

Each limit has a default and an environment variable that changes it (a positive whole number),
named in the error message a user sees when a file goes over it.
"""

from __future__ import annotations

import os

#: name → (environment variable, default, unit as the messages say it)
LIMITS: dict[str, tuple[str, int, str]] = {
    "image_pixels": ("AVATARIUM_MAX_IMAGE_PIXELS", 150_000_000, "pixels"),
    "splats": ("AVATARIUM_MAX_SPLATS", 20_000_000, "splats"),
    "motion_frames": ("AVATARIUM_MAX_MOTION_FRAMES", 250_000, "frames"),
    "bundle_bytes": ("AVATARIUM_MAX_BUNDLE_BYTES", 2_000_000_000, "bytes unpacked"),
}


def limit(name: str, given: int | None = None) -> int:
    """The limit ``name`` (a key of :data:`LIMITS`): ``given`` if not None (a caller's own limit),
    else its environment variable if set, else the default."""
    if given is not None:
        return given
    variable, default, _ = LIMITS[name]
    text = os.environ.get(variable, "").strip().replace("_", "")
    if not text:
        return default
    try:
        value = int(float(text))
    except ValueError:
        raise ValueError(f"{variable}={os.environ[variable]!r} is not a number") from None
    if value <= 0:
        raise ValueError(f"{variable} must be positive, got {value}")
    return value


def how_to_raise(name: str) -> str:
    """The hint that ends an over-the-limit message."""
    return f"set the environment variable {LIMITS[name][0]} to a larger number to allow it"
