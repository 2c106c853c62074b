"""Atomic folders: the new folder appears whole or not at all."""

from __future__ import annotations

import pytest

from core.io.atomic import atomic_folder


def test_a_folder_is_replaced_whole_or_kept(tmp_path):
    target = tmp_path / "frames"
    with atomic_folder(target) as staging:
        for name in ("a", "b", "c"):
            (staging / name).write_text(name)
        assert not target.exists()  # nothing shows until the block ends
    assert sorted(p.name for p in target.iterdir()) == ["a", "b", "c"]
    with pytest.raises(RuntimeError), atomic_folder(target) as staging:
        (staging / "d").write_text("d")
        raise RuntimeError("full disk")
    assert sorted(p.name for p in target.iterdir()) == ["a", "b", "c"]  # the old folder, untouched
    with atomic_folder(target) as staging:
        (staging / "d").write_text("d")
    assert [p.name for p in target.iterdir()] == ["d"]  # no stale files from the old one
    assert [p.name for p in tmp_path.iterdir()] == ["frames"]  # no staging or old folders left behind
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="not a folder"), atomic_folder(tmp_path / "file"):
        pass
