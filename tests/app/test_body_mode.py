"""Body mode: GPU skinning in the viewport against CPU skinning, and playback in the window."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from app.images import qimage_to_rgb
from app.viewport.gl_widget import SplatViewport
from core.avatar.body_splats import body_splats
from core.avatar.skinning import skin_gaussians
from core.body.lbs import bone_quaternions, skin_points
from core.body.motions import builtin_motion

pytestmark = pytest.mark.usefixtures("gl_available")

SIZE = 240


@pytest.fixture(scope="module")
def anny_body():
    from core.body.anny_body import AnnyBody

    return AnnyBody()


def _viewport(qtbot) -> SplatViewport:
    view = SplatViewport()
    view.setFixedSize(SIZE, SIZE)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_gpu_skinning_matches_cpu_skinning(qtbot, anny_body):
    shape = anny_body.default_shape()
    cloud, binding = body_splats(anny_body, shape, count=4000, seed=1)
    indices, weights = binding.top(4)
    top4 = dataclasses.replace(binding, bone_indices=indices, bone_weights=weights)
    pose, trans = builtin_motion("jump").sample(torch.tensor([0.45]))  # deep crouch: big bends
    transforms = anny_body.forward(shape, pose, trans).transforms[0].detach()

    cpu = _viewport(qtbot)
    posed = skin_gaussians(cloud, top4, transforms)
    cpu.set_cloud(posed)
    gpu = _viewport(qtbot)
    gpu.set_cloud(cloud)
    gpu.set_skinning(indices, weights)
    gpu.set_pose(transforms, bone_quaternions(transforms, binding.bone_parents),
                 skin_points(cloud.means, indices, weights, transforms).numpy())
    gpu.camera = cpu.camera  # the same view of the posed body
    cpu.camera.azimuth = 0.5
    a = qimage_to_rgb(cpu.grabFramebuffer()).astype(float)
    b = qimage_to_rgb(gpu.grabFramebuffer()).astype(float)
    assert (np.abs(a - a[0, 0]).sum(-1) > 30).mean() > 0.05, "the body should fill part of the view"
    difference = np.abs(a - b) / 255
    assert difference.mean() <= 2 / 255, difference.mean() * 255
    # the rest pose is clearly different: GPU skinning really moved the splats
    gpu.set_pose(torch.eye(4).expand_as(transforms), bone_quaternions(torch.eye(4).expand_as(transforms),
                                                                       binding.bone_parents),
                 cloud.means.numpy())
    rest = qimage_to_rgb(gpu.grabFramebuffer()).astype(float)
    assert (np.abs(rest - a) / 255).mean() > 5 * difference.mean()


def test_playback_in_main_window(qtbot):
    from app.main_window import MainWindow

    window = MainWindow()
    window.viewport.setFixedSize(SIZE, SIZE)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.show_body("anny", "wave", splats=3000)
    first = qimage_to_rgb(window.viewport.grabFramebuffer())
    window.toggle_playback()
    assert window.player.playing
    qtbot.waitUntil(lambda: window.player.time > 1.0, timeout=20000)
    window.toggle_playback()
    assert not window.player.playing
    later = qimage_to_rgb(window.viewport.grabFramebuffer())
    assert np.abs(later.astype(int) - first).mean() > 0.5  # the arm went up
    assert not window.show_body("anny", "moonwalk")
    assert "moonwalk" in window.last_error
