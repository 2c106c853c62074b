"""``reconstruct``: one photo → detected person → fitted body → network → avatar, with progress and cancel.

Stages and their share of the progress bar: detection (10 %), body fit (60 %), network (20 %), avatar
(10 %). Every stage checks the cancel token; nothing is written here (exports are separate), so a
cancelled job leaves nothing behind. Test-time refinement of the Gaussians against the photo is
not part of this version.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.avatar.avatar import Avatar
from core.body.model import BodyModel
from core.camera import frame_person
from core.detect.person import PersonDetector, PersonObservation
from core.fit.fit_body import FitOptions, fit_body
from core.fit.result import BodyFit
from core.io.images import Photo
from core.progress import CancelToken, Progress, report
from core.recon.avatar_builder import build_avatar
from core.recon.infer import Reconstructor


@dataclass
class Result:
    """Everything a reconstruction produced."""

    photo: Photo
    observation: PersonObservation
    fit: BodyFit
    avatar: Avatar
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    warnings: list[str] = field(default_factory=list)  # things the user should know (half body, several people)


class Pipeline:
    """The loaded parts (body model, detector, network), reusable across photos in one thread."""

    def __init__(self, body: BodyModel, model_dir: str | os.PathLike[str], onnx: str | os.PathLike[str] | None = None,
                 fit_options: FitOptions | None = None, gaussians: int = 40000) -> None:
        self.body = body
        self.detector = PersonDetector()
        self.reconstructor = Reconstructor(Path(model_dir), body, onnx=onnx)
        self.fit_options = fit_options or FitOptions()
        self.gaussians = gaussians

    def close(self) -> None:
        self.detector.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reconstruct(self, photo: Photo, progress: Progress | None = None, cancel: CancelToken | None = None,
                    allow_several: bool = False) -> Result:
        """Run every stage on ``photo`` (see the module docstring)."""
        timings: dict[str, float] = {}
        warnings: list[str] = []
        start = time.perf_counter()
        report(progress, 0.0, "Finding the person", cancel)
        observation = self.detector.observe(photo, allow_several=allow_several)
        if observation.half_body:
            warnings.append("Only the upper body is visible: the legs are guessed standing.")
        timings["detection"] = time.perf_counter() - start

        def fit_progress(fraction: float, message: str) -> None:
            report(progress, 0.1 + 0.6 * fraction, message, cancel)

        stage = time.perf_counter()
        fit = fit_body(self.body, observation, frame_person(photo.rgb, observation.mask, observation.box),
                       self.fit_options, progress=fit_progress, cancel=cancel)
        timings["fit"] = time.perf_counter() - stage
        report(progress, 0.7, "Predicting the Gaussians", cancel)
        stage = time.perf_counter()
        _, prediction = self.reconstructor(photo.rgb, observation, fit)
        timings["network"] = time.perf_counter() - stage
        report(progress, 0.9, "Building the avatar", cancel)
        stage = time.perf_counter()
        avatar = build_avatar(self.body, self.reconstructor.query, np.asarray(fit.shape), prediction, self.gaussians)
        timings["avatar"] = time.perf_counter() - stage
        timings["total"] = time.perf_counter() - start
        report(progress, 1.0, "Avatar ready", cancel)
        return Result(photo, observation, fit, avatar, timings, warnings)
