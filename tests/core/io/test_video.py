import numpy as np
import pytest
from PIL import Image

from core.io.video import write_image, write_video


def frames(count, fail_at=None):
    for i in range(count):
        if i == fail_at:
            raise KeyboardInterrupt("cancelled")
        yield np.full((16, 24, 3), 20 * i, dtype=np.uint8)


@pytest.mark.parametrize("suffix", ["mp4", "gif"])
def test_interrupted_video_leaves_old_file_and_no_temp(tmp_path, suffix):
    path = tmp_path / f"clip.{suffix}"
    assert write_video(path, frames(5), fps=10) == 5
    before = path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        write_video(path, frames(5, fail_at=3), fps=10)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_formats_and_errors(tmp_path):
    write_image(tmp_path / "a.png", np.zeros((4, 5, 3), dtype=np.uint8))
    assert Image.open(tmp_path / "a.png").size == (5, 4)
    with pytest.raises(ValueError, match="cannot write"):
        write_image(tmp_path / "a.tiff", np.zeros((4, 5, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="no frames"):
        write_video(tmp_path / "empty.gif", [], fps=10)
    with pytest.raises(ValueError, match="cannot write"):
        write_video(tmp_path / "x.avi", frames(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]
