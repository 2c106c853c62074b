"""The shape panel reshapes the avatar's body (undoable) and returns to the fitted shape."""

from __future__ import annotations

import numpy as np
import pytest

from app.panels.shape_panel import ShapePanel


def test_a_slider_reshapes_only_its_parameter(qtbot, document, anny_body):
    panel = ShapePanel(document)
    qtbot.addWidget(panel)
    names = [p.name for p in anny_body.shape_parameters]
    assert len(panel.sliders) == len(names)
    fitted = document.base_avatar.shape.copy()
    index = names.index("height") if "height" in names else 0
    panel.sliders[index].setValue(900)
    parameter = anny_body.shape_parameters[index]
    expected = parameter.minimum + 0.9 * (parameter.maximum - parameter.minimum)
    assert document.shape[index] == pytest.approx(expected, abs=1e-6)
    others = [i for i in range(len(names)) if i != index]
    assert np.array_equal(document.shape[others], fitted[others])  # untouched parameters keep their exact value
    assert not np.allclose(document.avatar.cloud.means.numpy(), document.base_avatar.cloud.means.numpy())
    panel.reset_button.click()
    assert document.avatar is document.base_avatar
    document.undo_stack.undo()
    assert document.shape[index] == pytest.approx(expected, abs=1e-6)
