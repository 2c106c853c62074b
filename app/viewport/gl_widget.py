"""The splat viewport: a QOpenGLWidget with orbit / pan / zoom mouse controls.

Left drag orbits, right or middle drag (or Shift + left) pans, the wheel zooms, a double click
frames the object. The camera maths is ``core.camera.OrbitCamera``; drawing is ``SplatRenderer``,
plus ``GuideRenderer`` for the optional floor grid, skeleton and body mesh (the mesh replaces the
splats while shown).
"""

from __future__ import annotations

import collections
import math
import time

import numpy as np
import torch
from OpenGL import GL
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QWheelEvent
from PySide6.QtOpenGLWidgets import QOpenGLWidget

from app.viewport.guide_renderer import GuideRenderer
from app.viewport.splat_renderer import FrameStats, GLSetupError, SplatRenderer
from core.body.surface import vertex_normals
from core.camera import OrbitCamera, opengl_projection, opengl_view
from core.gaussians import GaussianCloud
from core.render import guides

GUIDES = ("grid", "skeleton", "mesh")

_ORBIT_RAD_PER_PX = math.radians(0.4)
_ZOOM_PER_NOTCH = 0.85
_FPS_REPORT_INTERVAL_S = 0.5


class SplatViewport(QOpenGLWidget):
    """Shows one :class:`GaussianCloud`; emits ``fps_changed`` while frames are being drawn."""

    fps_changed = Signal(float)
    gl_failed = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.camera = OrbitCamera()
        self.background = QColor(38, 40, 46)
        self.last_frame = FrameStats()
        self.gl_error: str | None = None
        self._renderer = SplatRenderer()
        self._guides = GuideRenderer()
        self.guides = dict.fromkeys(GUIDES, False)  # which guides are shown
        self._pending_grid: np.ndarray | None = None
        self._pending_body: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None
        self._mesh_faces: np.ndarray | None = None
        self._has_body = False
        self._cloud: GaussianCloud | None = None
        self._upload_pending = False
        self._pending_skin: tuple[torch.Tensor, torch.Tensor] | None = None
        self._pending_pose: tuple[torch.Tensor, torch.Tensor, np.ndarray] | None = None
        self._center = np.zeros(3)
        self._radius = 1.0
        self._drag_origin: QPointF | None = None
        self._swaps: collections.deque[float] = collections.deque(maxlen=240)
        self._fps_reported_at = 0.0
        self.frameSwapped.connect(self._on_frame_swapped)
        self.setMinimumSize(320, 240)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # ---------------------------------------------------------------- content
    @property
    def cloud(self) -> GaussianCloud | None:
        return self._cloud

    def set_cloud(self, cloud: GaussianCloud | None, frame: bool = True) -> None:
        """Show ``cloud`` (None clears the view); ``frame`` re-aims the camera at it."""
        self._cloud = cloud
        self._upload_pending = True
        if cloud is not None:
            lo, hi = cloud.bounds()
            self._center = ((lo + hi) / 2).double().cpu().numpy()
            self._radius = cloud.radius()
            self._pending_grid = guides.floor_grid(self._center, float(lo[1]), max(1.5, 1.2 * self._radius))
            if frame:
                self.frame_object()
        self._has_body = False
        self.update()

    def set_skinning(self, indices: torch.Tensor, weights: torch.Tensor) -> None:
        """Skin the current cloud on the GPU: top-4 bone indices and weights per splat ([N, 4])."""
        self._pending_skin = (indices, weights)
        self.update()

    def set_pose(self, transforms: torch.Tensor, quats: torch.Tensor, posed_means: np.ndarray) -> None:
        """Show the skinned cloud posed by bone transforms [K, 4, 4] / quaternions [K, 4]; the CPU's
        posed centres [N, 3] order the depth sort."""
        self._pending_pose = (transforms, quats, posed_means)
        self.update()

    def set_body(self, vertices: np.ndarray, joints: np.ndarray, faces: np.ndarray) -> None:
        """The posed body under the splats (vertices [V, 3], joints [55, 3], faces [F, 3]; world) for
        the skeleton and mesh guides."""
        normals = vertex_normals(vertices, faces) if self.guides["mesh"] else None
        new_faces = None if self._mesh_faces is faces else faces
        self._mesh_faces = faces
        self._pending_body = (guides.skeleton_segments(joints), vertices, normals, new_faces)
        self._has_body = True
        self.update()

    @property
    def wants_body(self) -> bool:
        """Whether a guide that needs :meth:`set_body` is shown."""
        return self.guides["skeleton"] or self.guides["mesh"]

    def set_guide(self, name: str, shown: bool) -> None:
        """Show or hide guide ``name`` (one of :data:`GUIDES`); skeleton and mesh need :meth:`set_body`."""
        if name not in GUIDES:
            raise ValueError(f"unknown guide '{name}' ({', '.join(GUIDES)})")
        self.guides[name] = bool(shown)
        if name == "mesh" and shown:
            self._mesh_faces = None  # the next set_body uploads the faces and normals
        self.update()

    def frame_object(self) -> None:
        """Aim the camera at the object's bounding sphere, keeping the viewing direction."""
        self.camera.frame(self._center, self._radius)
        self.update()

    def reset_view(self) -> None:
        """Front view (azimuth 0, elevation 0) framing the object."""
        self.camera.azimuth = 0.0
        self.camera.elevation = 0.0
        self.frame_object()

    def set_background(self, color: QColor) -> None:
        self.background = QColor(color)
        self.update()

    def fps(self) -> float:
        """Frames per second over the last second of continuous drawing (0 when idle)."""
        now = time.perf_counter()
        recent = [t for t in self._swaps if now - t < 1.0]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0])

    # ---------------------------------------------------------------- GL
    def initializeGL(self) -> None:
        try:
            self._renderer.initialize()
            self._guides.initialize()
        except (GLSetupError, GL.GLError) as exc:
            self.gl_error = (f"The 3D view cannot start: {exc}\nAvatarium needs OpenGL 4.1 (core profile). "
                             "Update the graphics driver or use Mesa's software renderer (llvmpipe); "
                             "if the driver already offers 4.1, please report this message.")
            self.gl_failed.emit(self.gl_error)
        self.context().aboutToBeDestroyed.connect(self._release_gl)

    def _release_gl(self) -> None:
        self.makeCurrent()
        self._renderer.release()
        self._guides.release()
        self.doneCurrent()

    def paintGL(self) -> None:
        bg = self.background
        GL.glClearColor(bg.redF(), bg.greenF(), bg.blueF(), 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        if self.gl_error is not None:
            return
        self._upload_guides()
        if self._upload_pending:
            self._renderer.set_cloud(self._cloud)
            self._upload_pending = False
        if self._pending_skin is not None:
            self._renderer.set_skinning(*self._pending_skin)
            self._pending_skin = None
        if self._pending_pose is not None:
            self._renderer.set_pose(*self._pending_pose)
            self._pending_pose = None
        ratio = self.devicePixelRatioF()
        width, height = max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio))
        GL.glViewport(0, 0, width, height)
        near, far = self.camera.near_far(self._radius)
        viewmat, K = self.camera.viewmat(), self.camera.intrinsics(width, height)
        view_projection = opengl_projection(K, width, height, near, far) @ opengl_view(viewmat)
        light = -viewmat[2, :3]  # a headlight: towards the camera
        if self.guides["grid"] and self._cloud is not None:
            self._guides.draw(view_projection, light, ("grid",))
        if self.guides["mesh"] and self._has_body:
            self._guides.draw(view_projection, light, ("mesh",))
        else:
            self.last_frame = self._renderer.render(viewmat, K, width, height, near, far)
        if self.guides["skeleton"] and self._has_body:
            self._guides.draw(view_projection, light, ("skeleton",))

    def _upload_guides(self) -> None:
        if self._pending_grid is not None:
            self._guides.set_grid(self._pending_grid)
            self._pending_grid = None
        if self._pending_body is not None:
            bones, vertices, normals, faces = self._pending_body
            self._guides.set_skeleton(bones)
            if normals is not None:
                self._guides.set_mesh(vertices, normals, faces)
            self._pending_body = None

    def _on_frame_swapped(self) -> None:
        now = time.perf_counter()
        self._swaps.append(now)
        if now - self._fps_reported_at > _FPS_REPORT_INTERVAL_S:  # a label repaint per frame costs frames
            self._fps_reported_at = now
            self.fps_changed.emit(self.fps())

    # ---------------------------------------------------------------- mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._drag_origin = event.position()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_origin = None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_origin is None:
            return
        delta = event.position() - self._drag_origin
        self._drag_origin = event.position()
        buttons = event.buttons()
        pan = (buttons & (Qt.MouseButton.RightButton | Qt.MouseButton.MiddleButton)) or (
            buttons & Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        )
        if pan:
            self.camera.pan(delta.x(), delta.y(), self.height())
        elif buttons & Qt.MouseButton.LeftButton:
            self.camera.orbit(-delta.x() * _ORBIT_RAD_PER_PX, delta.y() * _ORBIT_RAD_PER_PX)
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.frame_object()

    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120.0
        if notches:
            self.camera.zoom(_ZOOM_PER_NOTCH ** notches)
            self.update()
