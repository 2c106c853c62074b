"""The shared real test photos (``../shared/photos``; never copied into the project)."""

from pathlib import Path

import pytest

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"
FULL_BODY = ["01_pifu_ryota.png", "04_icon_indoor_028009.jpg", "05_lhm_000057.png",
             "09_lhm_sweater_video_image.png", "11_econ_street_351f52b9.jpg", "14_econ_coat_2095f20b.png",
             "18_pshuman_pexels_cutout_rgba.png"]
needs_photos = pytest.mark.skipif(not PHOTOS.is_dir(), reason="the shared test photos (../shared/photos) are absent")
