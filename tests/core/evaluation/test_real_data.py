import numpy as np
import pytest

from core.evaluation.real_data import (
    PARTS,
    RealDataError,
    clean_mask,
    find_subjects,
    registration,
    shifted,
)
from core.metrics import mask_iou


def test_both_layouts_are_found_with_registered_labels_and_cameras(benchmark):
    subjects = find_subjects(benchmark["root"])
    assert [s.name for s in subjects] == ["pair/person", "turntable"]
    pair, table = subjects
    assert not pair.calibrated and table.calibrated
    assert [v.name for v in pair.hidden] == ["back"]
    assert [v.name for v in table.hidden] == ["view090", "view180", "view270"]
    np.testing.assert_allclose(pair.background, 1.0) and np.testing.assert_allclose(table.background, 0.0, atol=0.02)
    # the label image sat 20 px off its render: registered, its mask is the figure's silhouette
    assert mask_iou(pair.front.mask, benchmark["drawn"]["person_front"]) > 0.97
    assert mask_iou(pair.hidden[0].mask, benchmark["drawn"]["person_back"]) > 0.97
    upper = pair.front.labels == PARTS.index("upper")
    assert upper.sum() > 0.9 * benchmark["drawn"]["person_front"].sum()
    for view, degrees in zip((table.front, *table.hidden), (0, 90, 180, 270), strict=True):
        assert mask_iou(view.mask, benchmark["drawn"][f"turntable{degrees}"]) > 0.95, view.name
        assert view.viewmat is not None and view.K[0, 0] == 5000.0


def test_the_shared_turntable_cameras_see_the_scan_where_its_renders_show_it():
    """PaMIR's own cameras (center, direction, right, up → OpenCV) project the scan onto its renders."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[4] / "shared" / "realback"
    cloud = root / "rp_dennis_posed_004" / "derived" / "rp_dennis_posed_004_uvpos_colored_points.ply"
    if not cloud.is_file():
        pytest.skip("the shared real-people views (../shared/realback) are absent")
    from plyfile import PlyData
    from scipy import ndimage

    vertex = PlyData.read(str(cloud))["vertex"]
    points = np.stack([vertex["x"], vertex["y"], vertex["z"]], 1).astype(np.float64)
    subject = next(s for s in find_subjects(root / "rp_dennis_posed_004"))
    for view in (subject.front, *subject.hidden):
        camera = points @ view.viewmat[:3, :3].T + view.viewmat[:3, 3]
        pixels = (camera[:, :2] / camera[:, 2:] * view.K[0, 0] + view.K[:2, 2]).astype(int)
        drawn = np.zeros(view.mask.shape, bool)
        drawn[np.clip(pixels[:, 1], 0, 511), np.clip(pixels[:, 0], 0, 511)] = True
        assert mask_iou(ndimage.binary_closing(drawn, iterations=2), view.mask) > 0.93, view.name


def test_registration_and_masks():
    fixed = np.zeros((80, 90), bool)
    fixed[20:60, 30:50] = True
    moving = shifted(fixed, -7, 3, False)
    assert registration(moving, fixed) == (7, -3)
    assert np.array_equal(shifted(moving, 7, -3, False)[5:-5, 10:-10], fixed[5:-5, 10:-10])
    holey = fixed.copy()
    holey[30:35, 35:40] = False  # a hole inside
    holey[0:2, 0:2] = True  # a speck
    assert np.array_equal(clean_mask(holey), fixed)


def test_bad_folders_say_what_is_wrong(tmp_path):
    with pytest.raises(RealDataError, match="not a folder"):
        find_subjects(tmp_path / "missing")
    with pytest.raises(RealDataError, match="no front/back pairs"):
        find_subjects(tmp_path)
    (tmp_path / "a_front.png").write_bytes(b"not a png")
    (tmp_path / "a_back.png").write_bytes(b"not a png")
    with pytest.raises(RealDataError, match="a_front.png cannot be read"):
        find_subjects(tmp_path)
