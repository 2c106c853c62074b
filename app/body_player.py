"""Plays a motion on a body shown as splats, or on an avatar: computes each frame's bones with core,
sends them to the viewport (GPU skinning). Owns the playback clock (play / pause / restart); a
static pose is shown with ``show_pose``."""

from __future__ import annotations

import time

import numpy as np
import torch
from PySide6.QtCore import QObject, QTimer, Signal

from app.viewport.gl_widget import SplatViewport
from core.avatar.avatar import Avatar
from core.avatar.body_splats import body_splats
from core.body.lbs import bone_quaternions, skin_points
from core.body.model import BodyModel
from core.body.motion_files import Motion


class BodyPlayer(QObject):
    """Drives ``viewport`` with ``motion`` played on ``body``; ``frame_changed`` gives the time (s)."""

    frame_changed = Signal(float)

    def __init__(self, viewport: SplatViewport, body: BodyModel, motion: Motion | None, splats: int = 20000,
                 avatar: Avatar | None = None, frame: bool = True, show: bool = True) -> None:
        super().__init__(viewport)
        self.viewport, self.body, self.motion = viewport, body, motion
        if avatar is None:  # the bare body as coloured splats
            self.shape = body.default_shape()
            self.cloud, binding = body_splats(body, self.shape, splats)
        else:
            self.shape = torch.tensor(avatar.shape)[None]
            self.cloud, binding = avatar.cloud, avatar.binding
        self.indices, self.weights = binding.top(4)
        self._faces = body.faces.numpy().astype(np.uint32)
        self.parents = binding.bone_parents
        self.time = 0.0
        self._clock = time.perf_counter()
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(1000 / min(60.0 if motion is None else motion.fps, 60.0))))
        self._timer.timeout.connect(self._tick)
        viewport.set_cloud(self.cloud, frame=frame)
        viewport.set_skinning(self.indices, self.weights)
        self._framed_target = viewport.camera.target.copy()
        if show:
            self.show_time(0.0)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def play(self) -> None:
        if self.motion is None:
            return
        self._clock = time.perf_counter()
        self._timer.start()

    def pause(self) -> None:
        self._timer.stop()

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def bones(self, pose: torch.Tensor, root: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Bone transforms [K, 4, 4], aligned quaternions [K, 4] and posed splat centres [N, 3] for
        ``pose`` [55, 3] and pelvis translation ``root`` [3] (metres)."""
        with torch.no_grad():
            out = self.body.forward(self.shape, pose[None].float(), root[None].float())
            transforms = out.transforms[0]
            means = skin_points(self.cloud.means, self.indices, self.weights, transforms)
        if self.viewport.wants_body:  # the skeleton or mesh guide is shown
            self.viewport.set_body(out.vertices[0].numpy(), out.joints[0].numpy(), self._faces)
        return transforms, bone_quaternions(transforms, self.parents), means

    def show_pose(self, pose: torch.Tensor, root: torch.Tensor | None = None) -> None:
        """Show the body in ``pose`` [55, 3] (radians) moved by ``root`` [3] (None: in place)."""
        root = torch.zeros(3) if root is None else root
        transforms, quats, means = self.bones(pose, root)
        self.viewport.set_pose(transforms, quats, means.numpy())
        # the camera follows the body across the floor (not up and down)
        self.viewport.camera.target = self._framed_target + root.double().numpy() * (1.0, 0.0, 1.0)

    def show_time(self, seconds: float) -> None:
        """Pose the body at ``seconds`` into the motion (looping)."""
        self.time = seconds % max(self.motion.duration, 1e-6)
        pose, trans = self.motion.sample(torch.tensor([self.time]))
        self.show_pose(pose[0], trans[0])
        self.frame_changed.emit(self.time)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.show_time(self.time + (now - self._clock))
        self._clock = now
