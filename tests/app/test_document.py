"""The document model: undoable pose / shape / fit edits, slider-drag merging, dirty flag, save."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.persist.bundle import load_bundle


def test_new_reconstruction_shows_the_photo_pose_and_is_unsaved(document):
    assert np.array_equal(document.pose, document.fit.pose)
    assert document.dirty and document.undo_stack.count() == 0


def test_pose_edits_undo_and_redo_exactly(document):
    start = document.pose.copy()
    document.set_joint(16, np.array([0.1, 0.2, 0.3], np.float32))
    document.set_joint(18, np.array([0.0, -1.0, 0.0], np.float32))
    assert document.undo_stack.count() == 2
    document.undo_stack.undo()
    assert np.array_equal(document.pose[18], start[18]) and np.allclose(document.pose[16], [0.1, 0.2, 0.3])
    document.undo_stack.undo()
    assert np.array_equal(document.pose, start)
    document.undo_stack.redo()
    assert np.allclose(document.pose[16], [0.1, 0.2, 0.3])


def test_one_slider_drag_is_one_undo_step(document):
    start = document.pose.copy()
    for angle in np.linspace(0.0, 1.0, 12):
        document.set_joint(16, np.array([0.0, 0.0, angle], np.float32), merge=(16, 2, 7))
    document.set_joint(16, np.array([0.0, 0.0, 0.5], np.float32), merge=(16, 2, 8))  # the next drag
    assert document.undo_stack.count() == 2
    document.undo_stack.undo()
    assert document.pose[16, 2] == pytest.approx(1.0)
    document.undo_stack.undo()
    assert np.array_equal(document.pose, start)


def test_unchanged_pose_pushes_nothing(document):
    document.set_pose(document.pose.copy())
    assert document.undo_stack.count() == 0


def test_shape_edit_moves_gaussians_with_the_body_and_undoes(document, anny_body, small_avatar):
    avatar = small_avatar
    heavier = avatar.shape.copy()
    heavier[3] = min(1.0, heavier[3] + 0.4)  # weight
    document.set_shape(heavier)
    moved = document.avatar.cloud.means - avatar.cloud.means
    assert moved.norm(dim=1).max() > 0.01
    # each Gaussian followed its anchor: compare with the reshaped body's surface points
    rest = anny_body.rest(torch.tensor(heavier)[None]).vertices[0]
    anchors = (rest[anny_body.faces[avatar.binding.triangles]] * avatar.binding.barycentric[..., None]).sum(1)
    before = anny_body.rest(torch.tensor(avatar.shape)[None]).vertices[0]
    old_anchors = (before[anny_body.faces[avatar.binding.triangles]] * avatar.binding.barycentric[..., None]).sum(1)
    assert torch.allclose(document.avatar.cloud.means - anchors, avatar.cloud.means - old_anchors, atol=1e-5)
    document.undo_stack.undo()
    assert document.avatar is document.base_avatar


def test_fit_edit_is_undoable(document):
    old = document.fit
    new = dataclasses.replace(old, root=np.array([0.0, 0.1, 0.0], np.float32))
    changes = []
    document.fit_changed.connect(lambda: changes.append(document.fit))
    document.set_fit(new)
    document.undo_stack.undo()
    assert changes == [new, old]


def test_save_writes_a_bundle_and_cleans(document, tmp_path):
    dirty = []
    document.dirty_changed.connect(dirty.append)
    document.set_joint(16, np.array([0.0, 0.0, 0.4], np.float32))
    target = document.save(tmp_path / "me.avatar")
    assert not document.dirty and dirty[-1] is False
    bundle = load_bundle(target)
    assert torch.equal(bundle.avatar.cloud.means, document.avatar.cloud.means)
    assert np.array_equal(bundle.fit.pose, document.fit.pose)
    document.set_joint(16, np.array([0.0, 0.0, 0.2], np.float32))
    assert document.dirty


def test_pins_and_locks(document):
    seen = []
    document.constraints_changed.connect(lambda: seen.append((dict(document.pins), set(document.locked))))
    document.pin("left_wrist", (10, 20))
    document.lock("left_elbow", True)
    document.pin("left_wrist", None)
    assert seen == [({"left_wrist": (10.0, 20.0)}, set()), ({"left_wrist": (10.0, 20.0)}, {"left_elbow"}),
                    ({}, {"left_elbow"})]
