"""The app's background jobs that are not covered through the window."""

from __future__ import annotations

from app.preferences import Preferences, PreferencesDialog
from app.tasks import pipeline_for, warm_up_job
from core.progress import CancelToken
from core.render import composite_numba, projection_numba, rasterize


def test_warm_up_loads_the_pipeline_and_readies_the_cpu_renderer(monkeypatch):
    monkeypatch.setattr(rasterize, "_KERNELS_READY", False)  # as in a fresh process
    messages, cache = [], {}
    warm_up_job(Preferences(preset="fast"))(lambda fraction, message: messages.append(message), CancelToken(), cache)
    assert [key for key in cache if key[0] == "pipeline"]
    assert "Preparing the CPU renderer" in messages and rasterize._KERNELS_READY
    for kernel in (projection_numba._forward, projection_numba._backward, composite_numba._forward_tiles,
                   composite_numba._backward_tiles):
        assert kernel.signatures  # compiled or loaded from Numba's cache: the first render will not wait


def test_the_person_mask_preference_reaches_the_pipeline(qapp):
    dialog = PreferencesDialog(Preferences(preset="fast"))
    assert dialog.result_preferences().sharpen_mask  # on by default
    dialog.sharpen_mask.setChecked(False)
    chosen = dialog.result_preferences()
    assert chosen == Preferences(preset="fast", sharpen_mask=False)
    cache: dict = {}
    assert pipeline_for(Preferences(preset="fast"), cache).grabcut
    assert not pipeline_for(chosen, cache).grabcut  # a new pipeline, the old one closed
    assert len([key for key in cache if key[0] == "pipeline"]) == 1
