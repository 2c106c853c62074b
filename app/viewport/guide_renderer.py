"""OpenGL drawing of the viewport's guides: floor grid and skeleton (lines), body mesh (lit triangles).

Geometry comes from :mod:`core.render.guides`; every call needs the GL context current. Vertices are
interleaved ``[x y z, nx ny nz, r g b a]`` float32 (``shaders/guide.vert``).
"""

from __future__ import annotations

import ctypes

import numpy as np
from OpenGL import GL

from app.viewport.splat_renderer import build_program

_FLOATS = 10  # per vertex
_GUIDES = ("grid", "skeleton", "mesh")
GRID_COLOR = (0.55, 0.57, 0.62, 1.0)
SKELETON_COLOR = (1.0, 0.6, 0.0, 1.0)
MESH_COLOR = (0.62, 0.66, 0.74, 1.0)


def _vertices(positions: np.ndarray, color: tuple[float, float, float, float],
              normals: np.ndarray | None = None) -> np.ndarray:
    positions = np.asarray(positions, dtype=np.float32).reshape(-1, 3)
    out = np.zeros((len(positions), _FLOATS), dtype=np.float32)
    out[:, :3] = positions
    if normals is not None:
        out[:, 3:6] = normals
    out[:, 6:] = color
    return out


class GuideRenderer:
    """Keeps one vertex array per guide; ``draw`` draws those asked for."""

    def __init__(self) -> None:
        self._program = 0
        self._vaos: dict[str, int] = {}
        self._buffers: dict[str, int] = {}
        self._index_buffer = 0
        self._counts = dict.fromkeys(_GUIDES, 0)
        self._uniforms: dict[str, int] = {}

    def initialize(self) -> None:
        self._program = build_program("guide.vert", "guide.frag")
        for name in ("u_view_projection", "u_lit", "u_light"):
            self._uniforms[name] = GL.glGetUniformLocation(self._program, name)
        vaos = np.atleast_1d(GL.glGenVertexArrays(len(_GUIDES)))
        buffers = np.atleast_1d(GL.glGenBuffers(len(_GUIDES) + 1))
        self._index_buffer = int(buffers[-1])
        stride = 4 * _FLOATS
        for name, vao, buffer in zip(_GUIDES, vaos, buffers, strict=False):
            self._vaos[name], self._buffers[name] = int(vao), int(buffer)
            GL.glBindVertexArray(int(vao))
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, int(buffer))
            for location, (size, offset) in enumerate(((3, 0), (3, 3), (4, 6))):
                GL.glEnableVertexAttribArray(location)
                GL.glVertexAttribPointer(location, size, GL.GL_FLOAT, GL.GL_FALSE, stride,
                                         ctypes.c_void_p(4 * offset))
            if name == "mesh":
                GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self._index_buffer)
        GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

    def release(self) -> None:
        if self._program:
            GL.glDeleteProgram(self._program)
            GL.glDeleteVertexArrays(len(self._vaos), list(self._vaos.values()))
            GL.glDeleteBuffers(len(self._buffers) + 1, [*self._buffers.values(), self._index_buffer])
            self._program = 0

    def _upload(self, name: str, vertices: np.ndarray) -> None:
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._buffers[name])
        GL.glBufferData(GL.GL_ARRAY_BUFFER, vertices.nbytes, vertices, GL.GL_DYNAMIC_DRAW)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

    def set_grid(self, segments: np.ndarray) -> None:
        """Floor lines [L, 2, 3]."""
        self._upload("grid", _vertices(segments, GRID_COLOR))
        self._counts["grid"] = 2 * len(segments)

    def set_skeleton(self, segments: np.ndarray) -> None:
        """Bones [S, 2, 3]."""
        self._upload("skeleton", _vertices(segments, SKELETON_COLOR))
        self._counts["skeleton"] = 2 * len(segments)

    def set_mesh(self, vertices: np.ndarray, normals: np.ndarray, faces: np.ndarray | None) -> None:
        """The posed body: vertices and normals [V, 3]; ``faces`` [F, 3] when they changed (else None)."""
        self._upload("mesh", _vertices(vertices, MESH_COLOR, normals))
        if faces is not None:
            indices = np.ascontiguousarray(faces, dtype=np.uint32)
            GL.glBindVertexArray(self._vaos["mesh"])  # the element buffer is VAO state
            GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, indices.nbytes, indices, GL.GL_STATIC_DRAW)
            GL.glBindVertexArray(0)
            self._counts["mesh"] = indices.size

    def draw(self, view_projection: np.ndarray, light: np.ndarray, guides: tuple[str, ...]) -> None:
        """Draw ``guides`` (names of ``_GUIDES``) with the OpenGL clip-from-world matrix [4, 4]; the
        mesh with depth testing, lines without."""
        GL.glUseProgram(self._program)
        GL.glUniformMatrix4fv(self._uniforms["u_view_projection"], 1, GL.GL_TRUE, view_projection.astype(np.float32))
        GL.glUniform3f(self._uniforms["u_light"], *(float(v) for v in light))
        for name in guides:
            count = self._counts[name]
            if not count:
                continue
            GL.glBindVertexArray(self._vaos[name])
            if name == "mesh":
                GL.glUniform1i(self._uniforms["u_lit"], 1)
                GL.glEnable(GL.GL_DEPTH_TEST)
                GL.glClear(GL.GL_DEPTH_BUFFER_BIT)
                GL.glDrawElements(GL.GL_TRIANGLES, count, GL.GL_UNSIGNED_INT, ctypes.c_void_p(0))
                GL.glDisable(GL.GL_DEPTH_TEST)
            else:
                GL.glUniform1i(self._uniforms["u_lit"], 0)
                GL.glDrawArrays(GL.GL_LINES, 0, count)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
