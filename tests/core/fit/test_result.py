import json

import numpy as np
import pytest

from core.fit.result import BodyFit, FitFileError


def _fit(**changes) -> BodyFit:
    rng = np.random.default_rng(0)
    values = dict(body_model="anny", shape=rng.random(6), pose=rng.normal(0, 0.3, (55, 3)), root=[0.1, -0.2, -3.0],
                  K=[[800, 0, 256], [0, 800, 300], [0, 0, 1]], image_size=(512, 600),
                  keypoint_residuals={"nose": 1.5, "left_wrist": 4.25}, silhouette_iou=0.91, quality=0.88,
                  pins={"left_wrist": (100.5, 200.0)}, locked=("right_elbow",), seconds=1.25)
    values.update(changes)
    return BodyFit(**values)


def test_json_round_trip(tmp_path):
    fit = _fit()
    path = fit.save(tmp_path / "fit.json")
    again = BodyFit.load(path)
    np.testing.assert_allclose(again.pose, fit.pose, rtol=0, atol=1e-7)
    np.testing.assert_allclose(again.shape, fit.shape, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(again.K, fit.K)
    assert again.keypoint_residuals == fit.keypoint_residuals and again.pins == fit.pins
    assert again.locked == fit.locked and again.image_size == fit.image_size
    assert again.silhouette_iou == pytest.approx(0.91)
    data = json.loads(path.read_text())
    assert data["format"] == "avatarium-body-fit" and set(data["pose"]) >= {"pelvis", "left_elbow"}


def test_nan_is_refused_on_creation():
    with pytest.raises(ValueError, match="pose contains NaN"):
        _fit(pose=np.full((55, 3), np.nan))


@pytest.mark.parametrize(("text", "message"), [
    ("", "cannot be read"),
    ("{not json", "cannot be read"),
    ("[]", "not an Avatarium body fit"),
    ('{"format": "avatarium-body-fit", "version": 99}', "version 99 is not supported"),
    ('{"format": "avatarium-body-fit", "version": 1}', "malformed"),
    ('{"format": "avatarium-body-fit", "version": 1, "pose": {"tail": [0, 0, 0]}}', "unknown joint"),
    ('{"format": "avatarium-body-fit", "version": 1, "pose": [1, 2]}', "must map joint names"),
])
def test_bad_files_give_one_typed_error(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(FitFileError, match=message):
        BodyFit.load(path)


def test_wrong_values_and_truncation_are_typed_errors(tmp_path):
    data = _fit().to_dict()
    data["pose"]["left_elbow"] = [0.0, "x", 0.0]
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FitFileError, match="malformed"):
        BodyFit.load(path)
    whole = json.dumps(_fit().to_dict())
    path.write_text(whole[: len(whole) // 2])
    with pytest.raises(FitFileError, match="cannot be read"):
        BodyFit.load(path)
    data = _fit().to_dict()
    data["root"] = [0.0, float("nan"), 0.0]
    path.write_text(json.dumps(data))
    with pytest.raises(FitFileError, match="NaN"):
        BodyFit.load(path)


def test_oversized_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.json"
    path.write_bytes(b" " * 2_000)
    with pytest.raises(FitFileError, match="too large"):
        BodyFit.load(path, max_bytes=1_000)


def test_clothing_layer_round_trips_to_a_tenth_of_a_millimetre(tmp_path):
    offsets = np.random.default_rng(1).uniform(0, 0.2, 13718).astype(np.float32)
    fit = _fit(clothing=offsets, clothed_iou=0.93)
    path = fit.save(tmp_path / "fit.json")
    again = BodyFit.load(path)
    np.testing.assert_allclose(again.clothing, offsets, rtol=0, atol=0.5e-4 + 1e-7)
    assert again.clothed_iou == pytest.approx(0.93)
    assert path.stat().st_size < 120_000  # one compact line, not one line per offset
    assert BodyFit.load(_fit().save(tmp_path / "bare.json")).clothing is None


@pytest.mark.parametrize(("clothing", "message"), [
    ("thick", "must be a list"),
    ([1.0, -2.0], "from 0 to 1000 mm"),
    ([1.0, 5000.0], "from 0 to 1000 mm"),
    ([1.0, [2.0]], "malformed|from 0 to 1000 mm"),
    ([1e400], "from 0 to 1000 mm"),
])
def test_bad_clothing_layers_are_refused(tmp_path, clothing, message):
    data = _fit().to_dict()
    data["clothing_mm"] = clothing
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FitFileError, match=message):
        BodyFit.load(path)
