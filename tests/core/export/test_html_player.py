import base64
import gzip
import json
import math
import re

import numpy as np
import pytest
import torch

from core.avatar.avatar import Avatar
from core.avatar.body_splats import body_splats
from core.body.motion_files import Motion
from core.body.motions import BUILTIN_MOTIONS, builtin_motion
from core.export.html_player import MAX_SECONDS, PLAYER_FPS, save_html_player
from core.rotations import quat_to_rotmat


@pytest.fixture(scope="module")
def avatar(anny_body) -> Avatar:
    shape = anny_body.default_shape()
    cloud, binding = body_splats(anny_body, shape, 6000)
    return Avatar(cloud, binding, anny_body.name, shape[0].numpy())


def _page_data(text: str) -> tuple[dict, bytes]:
    meta = json.loads(re.search(r'id="avatar-meta">(.*?)</script>', text, re.S).group(1))
    data = re.search(r'id="avatar-data">(.*?)</script>', text, re.S).group(1)
    return meta, gzip.decompress(base64.b64decode(data))


def _section(payload: bytes, entry: dict) -> np.ndarray:
    return np.frombuffer(payload, np.float32, entry["length"], entry["offset"])


def test_the_page_carries_everything_and_asks_for_nothing(tmp_path, avatar, anny_body):
    path = save_html_player(tmp_path / "anna.html", avatar, anny_body)
    text = path.read_text(encoding="utf-8")
    assert "default-src 'none'" in text  # the browser itself refuses any request the page might make
    assert not re.search(r"https?:|\bsrc\s*=|\bhref\s*=|\bfetch\(|XMLHttpRequest|import\(", text)
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically
    meta, payload = _page_data(text)
    assert meta["splats"] == len(avatar.cloud) and meta["bones"] == len(anny_body.bone_names)
    assert [clip["name"] for clip in meta["clips"]] == list(BUILTIN_MOTIONS)
    sections = [meta[name] for name in ("geometry", "colors", "skin")] + [
        entry for clip in meta["clips"] for entry in (clip["bones"], clip["root"])]
    assert sum(4 * s["length"] for s in sections) == len(payload)
    # splat 7's rest centre and opacity, where the viewport's texture layout puts them
    geometry = _section(payload, meta["geometry"])
    assert np.allclose(geometry[12 * 7: 12 * 7 + 3], avatar.cloud.means[7].numpy())
    assert math.isclose(geometry[12 * 7 + 3], float(avatar.cloud.opacities()[7]), rel_tol=1e-6)


def test_bone_rows_are_the_bodys_transforms(tmp_path, avatar, anny_body):
    """The page stores each bone as translation + quaternion: that must be the body's rigid transform."""
    meta, payload = _page_data(save_html_player(tmp_path / "a.html", avatar, anny_body).read_text(encoding="utf-8"))
    clip = next(c for c in meta["clips"] if c["name"] == "wave")
    rows = _section(payload, clip["bones"]).reshape(clip["frames"], meta["bones"], 7)
    motion = builtin_motion("wave", PLAYER_FPS)
    assert clip["frames"] == len(motion) and clip["fps"] == PLAYER_FPS
    frame = 40
    with torch.no_grad():
        transforms = anny_body.forward(torch.tensor(avatar.shape)[None], motion.poses[frame][None],
                                       motion.trans[frame][None]).transforms[0]
    rotations = quat_to_rotmat(torch.from_numpy(rows[frame, :, 3:].copy()))
    assert float((rotations - transforms[:, :3, :3]).abs().max()) < 2e-5
    assert float((torch.from_numpy(rows[frame, :, :3].copy()) - transforms[:, :3, 3]).abs().max()) < 1e-5


def test_the_timeline_motion_is_added_and_long_motions_refused(tmp_path, avatar, anny_body):
    walk = builtin_motion("walk", 60.0)  # the built-in clip itself is not carried twice
    meta, _ = _page_data(save_html_player(tmp_path / "a.html", avatar, anny_body, walk).read_text(encoding="utf-8"))
    assert [clip["name"] for clip in meta["clips"]] == list(BUILTIN_MOTIONS)
    walk = Motion(walk.poses * 0.5, walk.trans, walk.fps, "walk")  # another motion of that name
    meta, _ = _page_data(save_html_player(tmp_path / "a.html", avatar, anny_body, walk).read_text(encoding="utf-8"))
    added = meta["clips"][-1]
    assert added["name"] == "walk (timeline)" and added["fps"] == PLAYER_FPS
    assert added["frames"] == round(walk.duration * PLAYER_FPS) + 1  # resampled to the page's rate
    frames = int(MAX_SECONDS * 10) + 20
    long = Motion(torch.zeros(frames, 55, 3), torch.zeros(frames, 3), 10.0, "marathon")
    with pytest.raises(ValueError, match="at most"):
        save_html_player(tmp_path / "b.html", avatar, anny_body, long)
    with pytest.raises(ValueError, match=r"\.html"):
        save_html_player(tmp_path / "c.png", avatar, anny_body)
    assert not (tmp_path / "b.html").exists()


@pytest.mark.slow
def test_the_player_animates_in_a_real_browser_like_our_renderer(tmp_path, avatar, anny_body):
    """Chromium, headless, software WebGL, network off: the clip plays; two paused frames match our CPU
    render of the same pose and camera and differ from each other."""
    from core.bench.browser import BrowserUnavailable, offline_page, require_browser
    from core.bench.html import canvas_image, open_player
    from core.render.offline import framed_camera, render_image

    path = save_html_player(tmp_path / "anna.html", avatar, anny_body)
    motion = builtin_motion("walk", PLAYER_FPS)
    camera = framed_camera(avatar.posed(anny_body, motion.poses[0], motion.trans[0]), 30.0, 5.0)
    size = 320
    try:
        require_browser()
    except BrowserUnavailable as error:
        pytest.skip(f"no browser to run the player in: {error}")
    with offline_page(size, size) as (page, requests):
        open_player(page, path, clip="walk", azimuth=30, elevation=5, distance=camera.distance, fov=camera.fov_y,
                    target=",".join(f"{v:.7f}" for v in camera.target), background="1,1,1", ui=0,
                    size=f"{size},{size}")
        played = []
        for _ in range(2):
            page.wait_for_timeout(600)  # playing meanwhile
            played.append(page.evaluate("avatarPlayer.pause()"))
            page.evaluate("avatarPlayer.play()")
        # drawn at set times: a busy machine may play for seconds between pauses, and the walk leaves the frame
        times, images = [0.6, 1.2], []
        for seconds in times:
            page.evaluate(f"avatarPlayer.show('walk', {seconds})")
            images.append(canvas_image(page))
        refused = list(requests.refused)
    assert played[1] != played[0] and min(played) > 0  # it plays (and loops: it may have wrapped round)
    assert refused == []
    for seconds, image in zip(times, images, strict=True):
        pose, trans = motion.sample(torch.tensor([seconds]))
        ours = render_image(avatar.posed(anny_body, pose[0], trans[0]), camera, size)
        assert image.shape == ours.shape
        inside = (ours < 250).any(-1) | (image < 250).any(-1)
        assert inside.mean() > 0.05
        mse = ((image.astype(np.float64) - ours) ** 2)[inside].mean()
        assert 10 * math.log10(255 ** 2 / mse) >= 25.0
    changed = np.abs(images[0].astype(int) - images[1]).max(-1) > 40
    assert changed.mean() > 0.01  # the two frames show different poses
