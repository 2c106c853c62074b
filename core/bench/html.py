"""``avatarium bench html``: the HTML player in a real browser (headless Chromium, software WebGL):
file size, load time and the frame rate while a clip plays, per splat count. The avatar is the body
covered with splats (:func:`core.avatar.body_splats.body_splats`), skinned on the GPU like any avatar."""

from __future__ import annotations

import io
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np


def player_url(path: Path, **options: object) -> str:
    """``file:`` URL of the player at ``path`` with ``options`` in its hash (see resources/player/player.js)."""
    return path.resolve().as_uri() + "#" + urllib.parse.urlencode({k: str(v) for k, v in options.items()})


def open_player(page, path: Path, timeout_s: float = 120.0, **options: object) -> float:
    """Load the player at ``path`` in the Playwright ``page`` and wait until it shows the avatar; the
    seconds it took. Raises RuntimeError with the page's own message when the player fails."""
    start = time.perf_counter()
    page.goto("about:blank")  # a new hash on the same page would not load it again
    page.goto(player_url(path, **options))
    # polled from here: Playwright's in-page polling evaluates strings, which the page's CSP forbids
    while True:
        ready, error = page.evaluate("window.avatarPlayer ? [avatarPlayer.ready, avatarPlayer.error] : [false, null]")
        if error:
            raise RuntimeError(f"the player failed in the browser: {error}")
        if ready:
            return time.perf_counter() - start
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"the player did not show the avatar within {timeout_s:.0f} s")
        page.wait_for_timeout(20)


def canvas_image(page) -> np.ndarray:
    """RGB uint8 [H, W, 3] of the player's canvas as the browser shows it."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.locator("#view").screenshot())).convert("RGB"))


def bench_html(splats: list[int], size: int = 512, seconds: float = 5.0, clip: str = "walk") -> dict:
    """Per splat count: the page's size (MB), load time (s), frame rate and CPU time per frame while
    ``clip`` plays in a ``size``² canvas for ``seconds``."""
    from core.avatar.avatar import Avatar
    from core.avatar.body_splats import body_splats
    from core.bench.browser import chromium_path, offline_page
    from core.body.loading import load_body_model
    from core.export.html_player import save_html_player

    body = load_body_model("anny")
    shape = body.default_shape()
    rows = []
    with tempfile.TemporaryDirectory() as folder, offline_page(size, size) as (page, requests):
        for count in splats:
            cloud, binding = body_splats(body, shape, count)
            avatar = Avatar(cloud, binding, body.name, shape[0].numpy())
            path = Path(folder) / f"avatar-{count}.html"
            start = time.perf_counter()
            save_html_player(path, avatar, body)
            written = time.perf_counter() - start
            loaded = open_player(page, path, clip=clip, ui=0, size=f"{size},{size}")
            played = page.evaluate(f"avatarPlayer.measure({seconds})")
            rows.append({"splats": count, "file_mb": path.stat().st_size / 1e6, "write_s": written, "load_s": loaded,
                         "fps": played["fps"], "frames": played["frames"],
                         "cpu_ms_per_frame": played["drawMilliseconds"],
                         "sort_ms_per_frame": played["sortMilliseconds"]})
        renderer = page.evaluate("(() => { const gl = document.createElement('canvas').getContext('webgl2');"
                                 " return gl ? gl.getParameter(gl.RENDERER) : 'none'; })()")
        refused = list(requests.refused)
    return {"browser": str(chromium_path()), "webgl_renderer": renderer, "size": size, "clip": clip,
            "seconds": seconds, "network_requests": refused, "results": rows}
