"""``reconstruct``: one photo → detected person → fitted body → network → avatar → refined against
the photo, with progress and cancel.

Stages and their share of the progress bar: detection (5 %), body fit (35 %), network (6 %), avatar
(6 %), refinement against the photo (48 %; none in the ``fast`` preset). A preset with several
``body_rounds`` alternates refinement with body updates from the avatar's side views
(:meth:`Pipeline.refine`, pieces in :mod:`core.recon.fit_loop`) and returns the updated fit; none of
the presets does: on real people seen from behind (``avatarium eval real``) the updates made the
avatar worse from every side (back view 11.7 → 11.0 dB, silhouette IoU 0.85 → 0.83, input view
34.2 → 31.3 dB). The stages are also callable one by one (``observe``, ``fit``, ``avatar``): the
app's fit editor refits and rebuilds. Every stage checks the cancel token; nothing is written here
(exports are separate), so a cancelled job leaves nothing behind. Presets trade time for quality (see :data:`PRESETS`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.avatar.avatar import Avatar
from core.body.model import BodyModel
from core.camera import PersonFrame, frame_person
from core.detect.person import PersonDetector, PersonObservation
from core.fit.fit_body import Constraints, FitOptions, SideView, fit_body
from core.fit.result import BodyFit
from core.io.images import Photo
from core.progress import CancelToken, Progress, report, within
from core.recon.avatar_builder import build_avatar
from core.recon.fit_loop import carry_refinement, side_views
from core.recon.infer import Reconstructor
from core.recon.refine import refine_avatar
from core.render.rasterize import prepare_cpu_kernels


@dataclass(frozen=True)
class Preset:
    """How much work a reconstruction does."""

    fit: FitOptions
    gaussians: int  # Gaussians on the avatar
    refine_iterations: int  # refinement steps against the photo (colours, positions, sizes, opacity; 0: none)
    refine_size: int = 256  # refinement render size, pixels
    body_rounds: int = 1  # rounds of refinement and body updates from the avatar's side views (1: no body update)


#: Time budgets of the presets, photo to avatar on two CPU cores (seconds).
BUDGETS_S = {"fast": 5.0, "balanced": 20.0, "best": 60.0}
#: Presets (each must stay within its :data:`BUDGETS_S`).
PRESETS: dict[str, Preset] = {
    "fast": Preset(FitOptions(iterations=(15, 30, 25, 0)), 20000, 0),
    "balanced": Preset(FitOptions(), 40000, 12),
    "best": Preset(FitOptions(iterations=(30, 60, 80, 30)), 60000, 30),
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
                 onnx: str | os.PathLike[str] | None = None, grabcut: bool = True) -> None:
        """``grabcut``: sharpen the person mask to the photo's edges (:meth:`observe`)."""
        if isinstance(preset, str) and preset not in PRESETS:
            raise ValueError(f"unknown preset '{preset}' ({', '.join(PRESETS)})")
        self.preset = PRESETS[preset] if isinstance(preset, str) else preset
        self.body = body
        self.detector = PersonDetector()
        self.grabcut = grabcut
        self.reconstructor = Reconstructor(Path(model_dir), body, onnx=onnx)

    @classmethod
    def from_settings(cls, body: BodyModel, preset: str = "balanced", backend: str = "torch",
                      model_dir: str | os.PathLike[str] | None = None,
                      cache_dir: str | os.PathLike[str] | None = None, grabcut: bool = True) -> Pipeline:
        """The pipeline that the app's preferences or the command line's options name: the network in
        ``model_dir`` (default: the shipped one) run by ``backend`` "torch" or "onnxruntime" (its ONNX
        export made once into ``cache_dir``, :func:`core.recon.onnx_runtime.cached_onnx`)."""
        from core.recon.onnx_runtime import cached_onnx
        from core.resources import shipped_model_dir

        model = Path(model_dir) if model_dir else shipped_model_dir()
        if backend not in ("torch", "onnxruntime"):
            raise ValueError(f"unknown inference backend '{backend}' (torch or onnxruntime)")
        if backend == "onnxruntime" and cache_dir is None:
            raise ValueError("the onnxruntime backend needs a folder for the network's ONNX export")
        onnx = cached_onnx(model, cache_dir) if backend == "onnxruntime" else None
        return cls(body, model, preset, onnx=onnx, grabcut=grabcut)

    def warm_up(self, progress: Progress | None = None, cancel: CancelToken | None = None) -> None:
        """Have everything a reconstruction needs ready: the body model, detector and network are loaded
        with the pipeline; this compiles the CPU renderer's kernels (on the first run after an install,
        about 20 s; later a cache read). The app runs it in the background at start; reconstructions
        that refine call it themselves."""
        report(progress, 0.0, "Preparing the CPU renderer", cancel)
        prepare_cpu_kernels()
        report(progress, 1.0, "CPU renderer ready", cancel)

    def close(self) -> None:
        self.detector.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def observe(self, photo: Photo, allow_several: bool = False, cancel: CancelToken | None = None
                ) -> PersonObservation:
        """Detect the person of ``photo``, the mask sharpened with GrabCut unless the pipeline was made
        without ``grabcut`` (raises :class:`core.detect.person.DetectionError`, or
        :class:`core.progress.Cancelled` once ``cancel`` is set)."""
        return self.detector.observe(photo, allow_several=allow_several, grabcut=self.grabcut, cancel=cancel)

    def fit(self, photo: Photo, observation: PersonObservation, constraints: Constraints | None = None,
            init: BodyFit | None = None, progress: Progress | None = None, cancel: CancelToken | None = None,
            side_views: Sequence[SideView] = ()) -> BodyFit:
        """Fit the body to ``observation``; with ``init`` a short refit from it (the fit editor's Refit,
        the body updates of :meth:`refine` with ``side_views``)."""
        frame = frame_person(photo.rgb, observation.mask, observation.box)
        return fit_body(self.body, observation, frame, self.preset.fit, constraints, init, progress, cancel, side_views)

    def avatar(self, photo: Photo, observation: PersonObservation, fit: BodyFit, progress: Progress | None = None,
               cancel: CancelToken | None = None, timings: dict[str, float] | None = None, update_body: bool = True
               ) -> tuple[Avatar, BodyFit]:
        """The avatar of a fitted photo and its fit: network, Gaussians on the body, refinement (progress
        fractions: network 0–10 %, avatar 10–20 %, refinement 20–100 %). With ``update_body`` and a
        preset of several ``body_rounds`` the refinement alternates with body updates
        (:meth:`refine`) and the fit returned is the updated one."""
        timings = {} if timings is None else timings
        report(progress, 0.0, "Predicting the Gaussians", cancel)
        stage = time.perf_counter()
        inputs, prediction = self.reconstructor(photo.rgb, observation, fit)
        timings["network"] = time.perf_counter() - stage
        report(progress, 0.1, "Building the avatar", cancel)
        stage = time.perf_counter()
        avatar = build_avatar(self.body, self.reconstructor.query, np.asarray(fit.shape), prediction,
                              self.preset.gaussians, fit.clothing)
        timings["avatar"] = time.perf_counter() - stage
        stage = time.perf_counter()
        if self.preset.refine_iterations > 0:
            self.warm_up(within(progress, cancel, 0.15, 0.2), cancel)
        avatar, fit = self.refine(photo, observation, fit, avatar, self.preset.body_rounds if update_body else 1,
                                  within(progress, cancel, 0.2, 1.0), cancel, inputs.frame)
        timings["refine"] = time.perf_counter() - stage
        report(progress, 1.0, "Avatar ready", cancel)
        return avatar, fit

    def refine(self, photo: Photo, observation: PersonObservation, fit: BodyFit, avatar: Avatar,
               rounds: int = 2, progress: Progress | None = None, cancel: CancelToken | None = None,
               frame: PersonFrame | None = None) -> tuple[Avatar, BodyFit]:
        """The refined avatar and the updated fit after ``rounds`` rounds (see the module docstring) that
        share the preset's refinement steps; ``avatar`` is the network's on ``fit``; ``frame`` the person's
        crop the network was given (refinement uses it when it has the preset's size)."""
        preset, body = self.preset, self.body
        steps = [preset.refine_iterations // rounds + (r < preset.refine_iterations % rounds) for r in range(rounds)]
        network = avatar
        for r, iterations in enumerate(steps):
            last = r == rounds - 1
            refined = refine_avatar(avatar, body, fit, photo.rgb, observation, iterations, preset.refine_size,
                                    frame=frame, cancel=cancel,
                                    progress=within(progress, cancel, r / rounds, (r + (1 if last else 0.8)) / rounds))
            if last:
                return refined, fit
            report(progress, (r + 0.8) / rounds, "Updating the body from the avatar's side views", cancel)
            fit = self.fit(photo, observation, Constraints(dict(fit.pins), tuple(fit.locked)), init=fit,
                           side_views=side_views(refined, body, fit), cancel=cancel)
            report(progress, (r + 0.95) / rounds, "Predicting the Gaussians on the updated body", cancel)
            _, prediction = self.reconstructor(photo.rgb, observation, fit)
            rebuilt = build_avatar(body, self.reconstructor.query, fit.shape, prediction, len(network.cloud),
                                   fit.clothing)
            avatar = carry_refinement(refined, network, rebuilt)
            network = rebuilt
        return avatar, fit

    def reconstruct(self, photo: Photo, progress: Progress | None = None, cancel: CancelToken | None = None,
                    allow_several: bool = False) -> Result:
        """Run every stage on ``photo`` (see the module docstring)."""
        timings: dict[str, float] = {}
        warnings: list[str] = []
        start = time.perf_counter()
        report(progress, 0.0, "Finding the person", cancel)
        observation = self.observe(photo, allow_several, cancel)
        if observation.half_body:
            warnings.append("Only the upper body is visible: the legs are guessed standing.")
        timings["detection"] = time.perf_counter() - start
        stage = time.perf_counter()
        fit = self.fit(photo, observation, progress=within(progress, cancel, 0.05, 0.4), cancel=cancel)
        timings["fit"] = time.perf_counter() - stage
        avatar, fit = self.avatar(photo, observation, fit, within(progress, cancel, 0.4, 1.0), cancel, timings)
        timings["total"] = time.perf_counter() - start  # avatar() reported "Avatar ready"
        return Result(photo, observation, fit, avatar, timings, warnings)

