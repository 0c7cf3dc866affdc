"""Choose how tiles draw video: QPainter on images, or OpenGL textures on a real GPU."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from PyQt6.QtGui import QOffscreenSurface, QOpenGLContext

log = logging.getLogger(__name__)

# Mesa's CPU rasterisers: uploading textures to them costs more CPU than painting images
# with QPainter (measured: a YUV shader at 1080p ~35 ms of CPU per frame on llvmpipe).
SOFTWARE_GL = ("llvmpipe", "softpipe", "swrast", "lavapipe", "software rasterizer")
GL_RENDERER = 0x1F01
GL_VENDOR = 0x1F00


@dataclass(frozen=True)
class RendererChoice:
    """The renderer tiles use, what the GL driver said, and why."""

    kind: str  # "raster" or "opengl"
    gl_renderer: str | None
    reason: str

    @property
    def opengl(self) -> bool:
        return self.kind == "opengl"


RASTER = RendererChoice("raster", None, "QPainter on tile-sized images")


def gl_renderer_string() -> str | None:
    """GL_RENDERER of a fresh context, or None when OpenGL is not available at all."""
    ctx = QOpenGLContext()
    if not ctx.create():
        return None  # e.g. the offscreen platform: never call makeCurrent then (it crashes)
    surface = QOffscreenSurface()
    surface.setFormat(ctx.format())
    surface.create()
    try:
        if not surface.isValid() or not ctx.makeCurrent(surface):
            return None
        from PyQt6.QtOpenGL import (
            QOpenGLFunctions_2_0,
            QOpenGLVersionFunctionsFactory,
            QOpenGLVersionProfile,
        )

        profile = QOpenGLVersionProfile()
        profile.setVersion(2, 0)
        funcs = QOpenGLVersionFunctionsFactory.get(profile, ctx)
        # PyQt6 wraps the functions of a 2.0 profile as QOpenGLFunctions_2_0; None: no GL 2.0.
        if not isinstance(funcs, QOpenGLFunctions_2_0):
            return None
        return f"{funcs.glGetString(GL_RENDERER)} ({funcs.glGetString(GL_VENDOR)})"
    except Exception as exc:  # noqa: BLE001 - any driver trouble means: no GPU path
        log.info("OpenGL probe failed: %s", exc)
        return None
    finally:
        ctx.doneCurrent()
        surface.destroy()


def decide(requested: str, gl_renderer: str | None) -> RendererChoice:
    """The choice for a request ("auto", "raster", "opengl") and what the driver reported."""
    if requested == "raster":
        return RendererChoice("raster", gl_renderer, "raster requested")
    if gl_renderer is None:
        return RendererChoice("raster", None, "no OpenGL context on this display")
    if any(name in gl_renderer.lower() for name in SOFTWARE_GL):
        if requested == "opengl":
            return RendererChoice("opengl", gl_renderer, "opengl requested (software GL)")
        return RendererChoice("raster", gl_renderer,
                              f"software OpenGL ({gl_renderer}): QPainter is cheaper")
    return RendererChoice("opengl", gl_renderer, f"GPU: {gl_renderer}")


def choose_renderer(requested: str | None = None) -> RendererChoice:
    """Pick the renderer at run time; VIDEOWALL_RENDERER overrides the default "auto"."""
    requested = (requested or os.environ.get("VIDEOWALL_RENDERER") or "auto").lower()
    if requested not in ("auto", "raster", "opengl"):
        raise ValueError(f"renderer must be auto, raster or opengl, not {requested!r}")
    choice = decide(requested, None if requested == "raster" else gl_renderer_string())
    log.info("video renderer: %s (%s)", choice.kind, choice.reason)
    return choice
