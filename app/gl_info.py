"""What OpenGL the current display offers (for ``avatarium info`` and benchmarks)."""

from __future__ import annotations

from OpenGL import GL
from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

from app.main import application


def gl_info() -> dict[str, str]:
    """Vendor, renderer, version and GLSL version of a context with the app's default format."""
    application()
    surface = QOffscreenSurface()
    surface.create()
    context = QOpenGLContext()
    if not context.create() or not context.makeCurrent(surface):
        return {"error": "no OpenGL context could be created on this display"}
    try:
        return {
            "vendor": GL.glGetString(GL.GL_VENDOR).decode(),
            "renderer": GL.glGetString(GL.GL_RENDERER).decode(),
            "version": GL.glGetString(GL.GL_VERSION).decode(),
            "glsl": GL.glGetString(GL.GL_SHADING_LANGUAGE_VERSION).decode(),
        }
    finally:
        context.doneCurrent()
