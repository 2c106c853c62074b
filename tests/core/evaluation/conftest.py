"""A small benchmark folder drawn by the tests: the example figure rendered as PaMIR and 4D-DRESS renders are."""

import numpy as np
import pytest
import torch
from PIL import Image

from core.evaluation.real_data import LABEL_COLOURS, PAMIR_FOCAL


def pamir_entry(degrees: float) -> np.ndarray:
    """One ``cam_data.mat`` entry: a (1, 1) struct of a camera 10 units from the origin, ``degrees`` around it."""
    a = np.radians(degrees)
    centre = 10 * np.array([[np.sin(a), 0.0, np.cos(a)]])
    entry = np.zeros((1, 1), dtype=[("center", "O"), ("direction", "O"), ("right", "O"), ("up", "O")])
    entry[0, 0] = (centre, -centre / 10, np.array([[np.cos(a), 0.0, -np.sin(a)]]), np.array([[0.0, 1.0, 0.0]]))
    return entry


def render(cloud, viewmat: np.ndarray, K: np.ndarray, size: int, background: float) -> tuple[np.ndarray, np.ndarray]:
    from core.evaluation.real import render_view

    out = render_view(cloud, viewmat, K, size, size, np.full(3, background))
    return (out.image * 255 + 0.5).astype(np.uint8), out.alpha


@pytest.fixture(scope="session")
def figure():
    """The example figure (1.7 m, feet at 0), centred on the origin as PaMIR's scans are."""
    from core.examples import figure_cloud

    cloud = figure_cloud(20000)
    lo, hi = cloud.bounds()
    return cloud.transformed(1.0, torch.eye(3), -(lo + hi) / 2)


@pytest.fixture(scope="session")
def benchmark(tmp_path_factory, figure) -> dict:
    """A folder with one front/back pair (labels shifted 20 px off their views, as in 4D-DRESS) and one
    calibrated turntable; returns its path and what was drawn."""
    from scipy.io import savemat

    from core.evaluation.real import turned_camera
    from core.evaluation.real_data import pamir_camera

    root = tmp_path_factory.mktemp("realback")
    size = 256
    # the pair: a far camera in front, and turned 180° about the vertical for the back
    front = np.diag([1.0, -1.0, -1.0, 1.0])
    front[2, 3] = 20.0
    K = np.array([[size * 10 / 2.2, 0, size / 2], [0, size * 10 / 2.2, size / 2], [0, 0, 1.0]])
    back = turned_camera(front, np.zeros(3))
    pair = root / "pair"
    pair.mkdir()
    drawn = {}
    colour = torch.tensor(LABEL_COLOURS["upper"], dtype=torch.float32) / 255
    labelled = figure.__class__(figure.means, figure.quats, figure.log_scales, figure.opacity_logits + 10,
                                figure.sh * 0 + (colour - 0.5)[None, None] / 0.28209479177387814)
    for name, viewmat in (("person_front", front), ("person_back", back)):
        rgb, alpha = render(figure, viewmat, K, size, 1.0)
        Image.fromarray(rgb).save(pair / f"{name}.png")
        label, _ = render(labelled, viewmat, K, size, 1.0)
        label[alpha < 0.5] = 255
        shifted = np.full_like(label, 255)
        shifted[:, :-20] = label[:, 20:]  # the label sheet's cut sits 20 px off the render
        Image.fromarray(shifted).save(pair / f"{name}_label.png")
        drawn[name] = alpha > 0.5
    # the turntable: PaMIR's cameras, black background
    table = root / "turntable" / "mv_renders"
    (table / "color").mkdir(parents=True)
    (table / "meta").mkdir()
    entries = np.empty((1, 360), dtype=object)
    for degrees in range(360):
        entries[0, degrees] = pamir_entry(degrees)
    savemat(str(table / "meta" / "cam_data.mat"), {"cam": entries})
    small = figure.transformed(0.8 / 1.7, torch.eye(3), torch.zeros(3))  # PaMIR's unit-height box
    for degrees in (0, 90, 180, 270):
        viewmat, K_pamir = pamir_camera(pamir_entry(degrees), (512, 512))
        rgb, alpha = render(small, viewmat, K_pamir, 512, 0.0)
        Image.fromarray(rgb).save(table / "color" / f"{degrees:04d}.jpg", quality=95)
        drawn[f"turntable{degrees}"] = alpha > 0.5
    assert PAMIR_FOCAL == 5000.0
    return {"root": root, "drawn": drawn, "front": front, "K": K}
