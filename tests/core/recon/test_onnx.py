import numpy as np
import torch
from photos import PHOTOS, needs_photos

from core.recon.loading import load_network
from core.recon.onnx_runtime import OnnxNetwork, export_onnx
from core.train.dataset import load_split
from core.train.train import batch_tensors


def test_onnxruntime_matches_torch(tmp_path, tiny_model):
    folder, data = tiny_model
    path = export_onnx(folder, tmp_path / "net.onnx")
    model, _, _ = load_network(folder)
    _, _, arrays = load_split(data, "heldout")
    batch = batch_tensors(arrays, np.array([0]))
    inputs = {k: batch[k] for k in ("image", "mask", "canonical", "uv", "visible", "facing")}
    with torch.no_grad():
        expected = model(**inputs)
    got = OnnxNetwork(path)(**inputs)
    for name in ("colour", "offset", "log_scale", "rotation", "opacity_logit"):
        difference = (getattr(got, name) - getattr(expected, name)).abs().max()
        assert float(difference) <= 1e-4, (name, float(difference))
    assert not list(tmp_path.glob(".*tmp*"))


@needs_photos
def test_bench_recon_times_both_runtimes(tiny_model):
    from core.bench.recon import bench_recon

    result = bench_recon(tiny_model[0], [PHOTOS / "01_pifu_ryota.png"], repeats=1)
    row = result["photos"][0]
    assert row["torch_s"] > 0 and row["onnxruntime_s"] > 0 and result["peak_rss_gb"] > 0.1
    assert set(result["summary"]) == {"median_torch_s", "median_onnxruntime_s"}
