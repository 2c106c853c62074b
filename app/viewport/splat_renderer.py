"""OpenGL 4.1 core splat renderer in two passes.

1. ``splat_project.vert`` projects every splat once per frame (one vertex per splat, visited in
   back-to-front order through an element buffer) and writes the splat's screen ellipse (centre,
   half-axes) and colour with transform feedback (rasterizer discarded).
2. ``splat.vert`` / ``splat.frag`` draw one triangle per projected splat (a plain, non-instanced
   draw: llvmpipe runs instanced draws far slower), blended with premultiplied alpha.

Splat data lives in float textures (layout in ``core.render.viewport_data``); only the depth order
(N uint32) is re-uploaded when the view direction changes. Every call needs the GL context current.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass

import numpy as np
import torch
from OpenGL import GL

from core.camera import camera_center
from core.gaussians import GaussianCloud
from core.render import viewport_data
from core.resources import shader_source

_PROJECTED_FLOATS = 12  # three vec4 per splat, see splat_project.vert
_FEEDBACK = [b"tf_center_axis", b"tf_minor_extent", b"tf_color"]


class GLSetupError(RuntimeError):
    """The OpenGL context cannot run the splat shaders (too old a driver, compile or link error)."""


def _compile(kind: int, name: str) -> int:
    shader = GL.glCreateShader(kind)
    GL.glShaderSource(shader, shader_source(name))
    GL.glCompileShader(shader)
    if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
        log = GL.glGetShaderInfoLog(shader).decode(errors="replace")
        GL.glDeleteShader(shader)
        raise GLSetupError(f"shader {name} failed to compile:\n{log}")
    return shader


def build_program(vertex: str, fragment: str | None = None, feedback: list[bytes] | None = None) -> int:
    """Compile and link ``shaders/<vertex>`` (+ ``<fragment>``), capturing ``feedback`` varyings
    interleaved. No validation step: validating with no VAO bound fails on core profiles."""
    shaders = [_compile(GL.GL_VERTEX_SHADER, vertex)]
    if fragment is not None:
        shaders.append(_compile(GL.GL_FRAGMENT_SHADER, fragment))
    program = GL.glCreateProgram()
    for shader in shaders:
        GL.glAttachShader(program, shader)
    if feedback:
        names = (ctypes.c_char_p * len(feedback))(*feedback)
        GL.glTransformFeedbackVaryings(program, len(feedback),
                                       ctypes.cast(names, ctypes.POINTER(ctypes.POINTER(GL.GLchar))),
                                       GL.GL_INTERLEAVED_ATTRIBS)
    GL.glLinkProgram(program)
    for shader in shaders:
        GL.glDetachShader(program, shader)
        GL.glDeleteShader(shader)
    if not GL.glGetProgramiv(program, GL.GL_LINK_STATUS):
        log = GL.glGetProgramInfoLog(program).decode(errors="replace")
        GL.glDeleteProgram(program)
        raise GLSetupError(f"shader program {vertex} + {fragment} failed to link:\n{log}")
    return program


@dataclass
class FrameStats:
    """CPU-side timing of one frame, milliseconds."""

    sort_ms: float = 0.0
    resorted: bool = False


class SplatRenderer:
    """Draws a :class:`GaussianCloud`; call :meth:`initialize` with a context current first."""

    def __init__(self) -> None:
        self._project = self._splat = 0
        self._vaos: list[int] = []
        self._buffers: list[int] = []  # [order (splat ids), projected splats]
        self._textures: list[int] = []  # [geometry, colours, projected (buffer texture), skin, bones, SH]
        self._uniforms: dict[str, int] = {}
        self._cloud: GaussianCloud | None = None
        self._means: np.ndarray | None = None
        self._sorted_for: np.ndarray | None = None  # view direction of the current order
        self._sh_texels = 0  # per splat, see viewport_data.sh_texels
        self._skinned = False

    @property
    def splat_count(self) -> int:
        return 0 if self._means is None else self._means.shape[0]

    def initialize(self) -> None:
        """Build programs and GL objects; raises :class:`GLSetupError` below OpenGL 4.1."""
        version = (int(GL.glGetIntegerv(GL.GL_MAJOR_VERSION)), int(GL.glGetIntegerv(GL.GL_MINOR_VERSION)))
        if version < (4, 1):
            raise GLSetupError(f"OpenGL 4.1 is required, this context offers {version[0]}.{version[1]}")
        self._project = build_program("splat_project.vert", feedback=_FEEDBACK)
        self._splat = build_program("splat.vert", "splat.frag")
        for name in ("u_geometry", "u_colors", "u_splats_per_row", "u_view", "u_intrinsics", "u_viewport",
                     "u_near_far", "u_skinned", "u_skin", "u_bones", "u_sh", "u_sh_texels", "u_eye"):
            self._uniforms[name] = GL.glGetUniformLocation(self._project, name)
        self._uniforms["splat_viewport"] = GL.glGetUniformLocation(self._splat, "u_viewport")
        self._uniforms["splat_projected"] = GL.glGetUniformLocation(self._splat, "u_projected")
        self._vaos = [int(v) for v in np.atleast_1d(GL.glGenVertexArrays(2))]
        self._buffers = [int(b) for b in np.atleast_1d(GL.glGenBuffers(2))]
        self._textures = [int(t) for t in np.atleast_1d(GL.glGenTextures(6))]
        for texture in self._textures[:2] + self._textures[3:]:
            GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_NEAREST)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_NEAREST)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glBindVertexArray(self._vaos[0])  # projection pass: visits splat ids from the order buffer
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self._buffers[0])
        GL.glBindVertexArray(0)  # the splat pass (VAO 1) needs no attributes

    def release(self) -> None:
        """Delete the GL objects (context current)."""
        if self._project:
            GL.glDeleteProgram(self._project)
            GL.glDeleteProgram(self._splat)
            GL.glDeleteVertexArrays(len(self._vaos), self._vaos)
            GL.glDeleteBuffers(len(self._buffers), self._buffers)
            GL.glDeleteTextures(self._textures)
            self._project = self._splat = 0

    @staticmethod
    def _upload_texture(texture: int, texels: np.ndarray) -> None:
        GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 4)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA32F, texels.shape[1], texels.shape[0], 0,
                        GL.GL_RGBA, GL.GL_FLOAT, np.ascontiguousarray(texels, dtype=np.float32))
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)

    @staticmethod
    def _upload_buffer(buffer: int, data: np.ndarray | None, nbytes: int, usage: int) -> None:
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, buffer)  # any target will do for an upload
        GL.glBufferData(GL.GL_ARRAY_BUFFER, nbytes, data, usage)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

    def set_cloud(self, cloud: GaussianCloud | None) -> None:
        """Upload ``cloud`` (None clears)."""
        self._cloud = cloud
        self._sorted_for = None
        self._skinned = False
        if cloud is None:
            self._means = None
            return
        geometry, colors, sh = viewport_data.pack_cloud(cloud)
        self._means = cloud.means.detach().to("cpu").float().numpy()
        self._upload_texture(self._textures[0], geometry)
        self._upload_texture(self._textures[1], colors)
        self._sh_texels = viewport_data.sh_texels(cloud.sh_degree)
        if sh is not None:
            self._upload_texture(self._textures[5], sh)
        self._upload_buffer(self._buffers[1], None, 4 * _PROJECTED_FLOATS * len(cloud), GL.GL_DYNAMIC_COPY)
        GL.glBindTexture(GL.GL_TEXTURE_BUFFER, self._textures[2])  # view the new store as texels
        GL.glTexBuffer(GL.GL_TEXTURE_BUFFER, GL.GL_RGBA32F, self._buffers[1])
        GL.glBindTexture(GL.GL_TEXTURE_BUFFER, 0)

    def set_skinning(self, indices: torch.Tensor, weights: torch.Tensor) -> None:
        """Skin the current cloud on the GPU with these top-4 bones and weights per splat ([N, 4])."""
        if self._means is None or len(indices) != self.splat_count:
            raise ValueError("set a cloud with as many splats as the skinning first")
        self._upload_texture(self._textures[3], viewport_data.pack_skin(indices, weights))
        self._skinned = True

    def set_pose(self, transforms: torch.Tensor, quats: torch.Tensor, posed_means: np.ndarray) -> None:
        """Bone transforms [K, 4, 4], their hemisphere-aligned quaternions [K, 4] and the splats'
        posed centres [N, 3] (for the depth sort) of the current frame."""
        self._upload_texture(self._textures[4], viewport_data.pack_bones(transforms, quats))
        self._means = np.ascontiguousarray(posed_means, dtype=np.float32)
        self._sorted_for = None

    def render(self, viewmat: np.ndarray, intrinsics: np.ndarray, width: int, height: int,
               near: float, far: float) -> FrameStats:
        """Draw into the bound (cleared) framebuffer.

        viewmat: [4, 4] world-to-camera, OpenCV axes; intrinsics: [3, 3] in pixels; width, height:
        the viewport in pixels; near, far: clip depths in metres.
        """
        stats = FrameStats()
        if self._means is None or self._cloud is None:
            return stats
        direction = viewmat[2, :3]
        if self._sorted_for is None or not np.allclose(direction, self._sorted_for, atol=1e-7):
            start = time.perf_counter()
            order = viewport_data.back_to_front(self._means, viewmat)
            stats.sort_ms = 1e3 * (time.perf_counter() - start)
            self._upload_buffer(self._buffers[0], order, order.nbytes, GL.GL_DYNAMIC_DRAW)
            stats.resorted = True
            self._sorted_for = direction.copy()
        count = self.splat_count
        u = self._uniforms

        GL.glUseProgram(self._project)  # pass 1: project, in depth order, into the feedback buffer
        for unit, texture in enumerate(self._textures[:2]):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
        GL.glUniform1i(u["u_geometry"], 0)
        GL.glUniform1i(u["u_colors"], 1)
        GL.glUniform1i(u["u_splats_per_row"], viewport_data.SPLATS_PER_ROW)
        GL.glUniformMatrix4fv(u["u_view"], 1, GL.GL_TRUE, viewmat.astype(np.float32))
        GL.glUniform4f(u["u_intrinsics"], intrinsics[0, 0], intrinsics[1, 1], intrinsics[0, 2], intrinsics[1, 2])
        GL.glUniform2f(u["u_viewport"], float(width), float(height))
        GL.glUniform2f(u["u_near_far"], near, far)
        GL.glUniform1i(u["u_skinned"], int(self._skinned))
        GL.glUniform1i(u["u_sh_texels"], self._sh_texels)
        GL.glUniform3f(u["u_eye"], *camera_center(viewmat).astype(float))
        textures = (("u_skin", self._textures[3]), ("u_bones", self._textures[4]), ("u_sh", self._textures[5]))
        for unit, (name, texture) in enumerate(textures, 3):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
            GL.glUniform1i(u[name], unit)
        GL.glEnable(GL.GL_RASTERIZER_DISCARD)
        GL.glBindVertexArray(self._vaos[0])
        GL.glBindBufferBase(GL.GL_TRANSFORM_FEEDBACK_BUFFER, 0, self._buffers[1])
        GL.glBeginTransformFeedback(GL.GL_POINTS)
        GL.glDrawElements(GL.GL_POINTS, count, GL.GL_UNSIGNED_INT, ctypes.c_void_p(0))
        GL.glEndTransformFeedback()
        GL.glBindBufferBase(GL.GL_TRANSFORM_FEEDBACK_BUFFER, 0, 0)
        GL.glDisable(GL.GL_RASTERIZER_DISCARD)

        GL.glUseProgram(self._splat)  # pass 2: blend the quads back to front
        GL.glUniform2f(u["splat_viewport"], float(width), float(height))
        GL.glActiveTexture(GL.GL_TEXTURE2)
        GL.glBindTexture(GL.GL_TEXTURE_BUFFER, self._textures[2])
        GL.glUniform1i(u["splat_projected"], 2)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glBindVertexArray(self._vaos[1])
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3 * count)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glDisable(GL.GL_BLEND)
        return stats
