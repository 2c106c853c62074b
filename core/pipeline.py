"""``reconstruct``: one photo → detected person → fitted body → network → avatar → refined colours,
with progress and cancel.

Stages and their share of the progress bar: detection (5 %), body fit (35 %), network (5 %), avatar
(5 %), refinement against the photo (50 %; none in the ``fast`` preset). Every stage checks the
cancel token; nothing is written here (exports are separate), so a cancelled job leaves nothing
behind. Presets trade time for quality (see :data:`PRESETS`).
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
from core.recon.refine import refine_colours


@dataclass(frozen=True)
class Preset:
    """How much work a reconstruction does."""

    fit: FitOptions
    gaussians: int  # Gaussians on the avatar
    refine_iterations: int  # colour refinement steps against the photo (0: none)
    refine_size: int = 256  # refinement render size, pixels


#: Presets and their time budgets on two CPU cores: fast ≤ 5 s, balanced ≤ 20 s, best ≤ 60 s.
PRESETS: dict[str, Preset] = {
    "fast": Preset(FitOptions(iterations=(15, 30, 25, 0)), 20000, 0),
    "balanced": Preset(FitOptions(), 40000, 8),
    "best": Preset(FitOptions(iterations=(30, 60, 80, 30)), 60000, 25, 320),
}


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

    def __init__(self, body: BodyModel, model_dir: str | os.PathLike[str], preset: str | Preset = "balanced",
                 onnx: str | os.PathLike[str] | None = None) -> None:
        if isinstance(preset, str) and preset not in PRESETS:
            raise ValueError(f"unknown preset '{preset}' ({', '.join(PRESETS)})")
        self.preset = PRESETS[preset] if isinstance(preset, str) else preset
        self.body = body
        self.detector = PersonDetector()
        self.reconstructor = Reconstructor(Path(model_dir), body, onnx=onnx)

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
        preset = self.preset
        start = time.perf_counter()
        report(progress, 0.0, "Finding the person", cancel)
        observation = self.detector.observe(photo, allow_several=allow_several)
        if observation.half_body:
            warnings.append("Only the upper body is visible: the legs are guessed standing.")
        timings["detection"] = time.perf_counter() - start

        def within(low: float, high: float) -> Progress:
            return lambda fraction, message: report(progress, low + (high - low) * fraction, message, cancel)

        stage = time.perf_counter()
        fit = fit_body(self.body, observation, frame_person(photo.rgb, observation.mask, observation.box),
                       preset.fit, progress=within(0.05, 0.4), cancel=cancel)
        timings["fit"] = time.perf_counter() - stage
        report(progress, 0.4, "Predicting the Gaussians", cancel)
        stage = time.perf_counter()
        _, prediction = self.reconstructor(photo.rgb, observation, fit)
        timings["network"] = time.perf_counter() - stage
        report(progress, 0.45, "Building the avatar", cancel)
        stage = time.perf_counter()
        avatar = build_avatar(self.body, self.reconstructor.query, np.asarray(fit.shape), prediction, preset.gaussians)
        timings["avatar"] = time.perf_counter() - stage
        stage = time.perf_counter()
        avatar = refine_colours(avatar, self.body, fit, photo.rgb, observation, preset.refine_iterations,
                                preset.refine_size, progress=within(0.5, 1.0), cancel=cancel)
        timings["refine"] = time.perf_counter() - stage
        timings["total"] = time.perf_counter() - start
        report(progress, 1.0, "Avatar ready", cancel)
        return Result(photo, observation, fit, avatar, timings, warnings)
