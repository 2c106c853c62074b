"""The app's background jobs (see :mod:`app.jobs`): each function returns a job that calls core.

Loaded pipelines are kept in the worker's cache, keyed by the preferences they were made with.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from app.export_menu import VideoOptions
from app.jobs import Job
from app.preferences import Preferences
from core.avatar.avatar import Avatar
from core.detect.person import PersonObservation, SeveralPeopleError
from core.fit.result import BodyFit
from core.io.images import Photo
from core.progress import CancelToken, Progress, report, within


@dataclass
class Detected:
    """A loaded photo and its person; ``boxes`` instead of a person when there are several."""

    photo: Photo
    observation: PersonObservation | None
    boxes: list[tuple[int, int, int, int]]
    message: str = ""


@dataclass
class Reconstructed:
    body: object  # BodyModel
    fit: BodyFit
    avatar: Avatar
    seconds: float


@functools.lru_cache(maxsize=4)
def shared_body_model(name: str, smplx_dir: str | None = None):
    """The body model ``name`` (SMPL-X from ``smplx_dir``), loaded once per process and shared by the
    GUI thread (posing, bundles) and the worker (pipelines): read-only once loaded."""
    from core.body.loading import load_body_model

    return load_body_model(name, smplx_dir)


def pipeline_for(preferences: Preferences, cache: dict):
    """The worker's :class:`core.pipeline.Pipeline` for ``preferences`` (made on first use)."""
    from platformdirs import user_cache_dir

    from core.pipeline import Pipeline

    torch.set_num_threads(preferences.threads)
    key = ("pipeline", preferences.body_model, preferences.smplx_dir, preferences.preset, preferences.backend,
           preferences.sharpen_mask)
    if key not in cache:
        for old in [k for k in cache if k[0] == "pipeline"]:
            cache.pop(old).close()
        body = shared_body_model(preferences.body_model, preferences.smplx_dir or None)
        cache[key] = Pipeline.from_settings(body, preferences.preset, preferences.backend,
                                            cache_dir=user_cache_dir("avatarium"), grabcut=preferences.sharpen_mask)
    return cache[key]


def warm_up_job(preferences: Preferences) -> Job:
    """Load what reconstructions need: the pipeline of ``preferences`` and the CPU renderer's kernels
    (compiled on the first start after an install, which the status bar says)."""

    def job(progress: Progress, cancel: CancelToken, cache: dict) -> None:
        report(progress, 0.0, "Loading the body model, detector and network", cancel)
        pipeline_for(preferences, cache).warm_up(within(progress, cancel, 0.5, 1.0), cancel)

    return job


def motion_job(path: Path, body_name: str, preferences: Preferences) -> Job:
    """The motion of the person in the video at ``path`` on the body model ``body_name``
    (:func:`core.capture.capture.capture_motion`; with several people, the largest one's)."""

    def job(progress: Progress, cancel: CancelToken, cache: dict):
        from core.capture.capture import CaptureOptions, capture_motion

        report(progress, 0.0, f"Reading {path.name}", cancel)
        body = shared_body_model(body_name, preferences.smplx_dir or None)
        return capture_motion(path, body, CaptureOptions(person=0), progress=progress, cancel=cancel)

    return job


def detect_job(path: str | Path | None, preferences: Preferences, box: tuple | None = None,
               photo: Photo | None = None) -> Job:
    """Load the photo at ``path`` (or take ``photo``), crop it to ``box`` if given, find the person."""

    def job(progress: Progress, cancel: CancelToken, cache: dict) -> Detected:
        from core.io.images import crop_photo, load_image

        report(progress, 0.0, "Loading the body model and the network", cancel)
        pipeline = pipeline_for(preferences, cache)
        report(progress, 0.02, "Reading the photo", cancel)
        image = photo if photo is not None else load_image(path)
        if box is not None:
            image = crop_photo(image, box)
        report(progress, 0.03, "Finding the person", cancel)
        try:
            observation = pipeline.observe(image, cancel=cancel)
        except SeveralPeopleError as exc:
            return Detected(image, None, list(exc.boxes), str(exc))
        return Detected(image, observation, [])

    return job


def reconstruct_job(photo: Photo, observation: PersonObservation, preferences: Preferences) -> Job:
    """Fit the body and build the avatar (progress 5–100 %: the detection came before)."""

    def job(progress: Progress, cancel: CancelToken, cache: dict) -> Reconstructed:
        import time

        start = time.perf_counter()
        pipeline = pipeline_for(preferences, cache)

        fit = pipeline.fit(photo, observation, progress=within(progress, cancel, 0.05, 0.4), cancel=cancel)
        avatar, fit = pipeline.avatar(photo, observation, fit, within(progress, cancel, 0.4, 1.0), cancel)
        return Reconstructed(pipeline.body, fit, avatar, time.perf_counter() - start)

    return job


def refit_job(photo: Photo, observation: PersonObservation, fit: BodyFit, pins: dict, locked: set,
              preferences: Preferences) -> Job:
    """A short refit from ``fit`` holding the user's pins and locked joints."""

    def job(progress: Progress, cancel: CancelToken, cache: dict) -> BodyFit:
        from core.fit.fit_body import Constraints

        pipeline = pipeline_for(preferences, cache)
        constraints = Constraints(pins=dict(pins), locked=tuple(sorted(locked)))
        return pipeline.fit(photo, observation, constraints, init=fit, progress=progress, cancel=cancel)

    return job


def rebuild_job(photo: Photo, observation: PersonObservation, fit: BodyFit, preferences: Preferences) -> Job:
    """The avatar rebuilt from ``fit`` (network and refinement again; the user's fit stays as it is)."""

    def job(progress: Progress, cancel: CancelToken, cache: dict) -> Avatar:
        return pipeline_for(preferences, cache).avatar(photo, observation, fit, progress, cancel, update_body=False)[0]

    return job


def _counter(progress: Progress, cancel: CancelToken, message: str):
    return lambda done, total: report(progress, done / max(total, 1), f"{message} {done}/{total}", cancel)


def export_job(fmt: str, path: Path, body, avatar: Avatar, fit: BodyFit | None, photo: Photo | None,
               pose: np.ndarray, motion=None, video: VideoOptions | None = None) -> Job:
    """Write one export. ``fmt`` is a :data:`core.export.writers.FORMATS` name, or ``turntable``
    (video of the avatar in ``pose``), ``animation`` (video of ``motion``), ``sequence`` (posed .ply
    files of ``motion`` into the folder ``path``), ``html`` (the web player, with ``motion`` if given);
    ``video`` sizes the videos."""
    video = video or VideoOptions()

    def job(progress: Progress, cancel: CancelToken, cache: dict) -> list[Path]:
        from core.export.animation import animation_images, save_ply_sequence
        from core.export.writers import write_format
        from core.io.video import write_video
        from core.render.offline import turntable

        report(progress, 0.0, f"Writing {path.name}", cancel)
        if fmt == "turntable":
            cloud = avatar.posed(body, torch.as_tensor(pose, dtype=torch.float32))
            frames = turntable(cloud, video.turntable_frames, video.size,
                               progress=_counter(progress, cancel, "Turntable frame"))
            write_video(path, frames, video.fps)
            return [path]
        if fmt == "animation":
            frames = animation_images(avatar, body, motion, video.fps, video.size,
                                      _counter(progress, cancel, "Frame"), cancel)
            write_video(path, frames, video.fps)
            return [path]
        if fmt == "html":
            from core.export.html_player import save_html_player

            return [save_html_player(path, avatar, body, motion, progress=_counter(progress, cancel, "Motion"))]
        if fmt == "sequence":
            return save_ply_sequence(path, avatar, body, motion, video.fps, _counter(progress, cancel, "Frame"),
                                     cancel)
        written = write_format(fmt, path, body, avatar, fit, None if photo is None else photo.rgb, pose, motion)
        return [written]

    return job
