"""The pose panel edits the document: sliders within limits, search, mirror, presets, resets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from app.panels.pose_panel import PHOTO_POSE, PosePanel
from core.body.joints import JOINT_INDEX, JOINT_LIMITS, mirror_pose
from core.body.motions import pose_presets


@pytest.fixture
def panel(qtbot, document):
    widget = PosePanel(document)
    qtbot.addWidget(widget)
    return widget


def test_sliders_follow_the_selected_joint_and_its_limits(panel, document):
    panel.select_joint("left_elbow")
    limits = np.degrees(JOINT_LIMITS[JOINT_INDEX["left_elbow"]].numpy())
    for axis, slider in enumerate(panel.sliders):
        assert slider.minimum() == math.floor(limits[axis, 0]) and slider.maximum() == math.ceil(limits[axis, 1])
    panel.sliders[1].setValue(-90)
    assert document.pose[JOINT_INDEX["left_elbow"], 1] == pytest.approx(math.radians(-90))
    panel.sliders[1].setValue(-500)  # clamped by the slider to the joint's limit
    assert document.pose[JOINT_INDEX["left_elbow"], 1] == pytest.approx(math.radians(panel.sliders[1].minimum()))


def test_slider_shows_the_documents_value_after_undo(panel, document):
    panel.select_joint("left_shoulder")
    assert panel.sliders[2].value() == round(math.degrees(-1.0))
    panel.sliders[2].setValue(30)
    document.undo_stack.undo()
    assert panel.sliders[2].value() == round(math.degrees(-1.0))


def test_search_selects_the_first_match(panel):
    panel.search.setText("right kn")
    assert panel.tree.currentItem().text(0) == "right knee"
    hidden = [item.text(0) for item in panel.items if item.isHidden()]
    assert "left elbow" in hidden and "right knee" not in hidden and "pelvis" not in hidden  # its ancestor


def test_mirror_presets_and_resets(panel, document):
    start = document.pose.copy()
    panel.mirror()
    assert np.allclose(document.pose, mirror_pose(torch.tensor(start)).numpy())
    panel.apply_preset("A-pose")
    assert np.array_equal(document.pose, pose_presets()["A-pose"].numpy())
    panel.apply_preset(PHOTO_POSE)
    assert np.array_equal(document.pose, document.fit.pose)
    panel.select_joint("left_shoulder")
    panel.reset_joint()
    assert not document.pose[JOINT_INDEX["left_shoulder"]].any()
    panel.reset_all_button.click()
    assert not document.pose.any()
    for _ in range(5):
        document.undo_stack.undo()
    assert np.array_equal(document.pose, start)
