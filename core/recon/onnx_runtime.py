"""The network as ONNX: export from a trained folder, and inference with onnxruntime.

``export_onnx(folder, path)`` writes the network (batch 1, the folder's query points baked in) with
named inputs ``image mask canonical uv visible facing`` and outputs ``colour offset log_scale
rotation opacity_logit`` (shapes as :class:`core.recon.model.ReconstructionNet`); written atomically.
``OnnxNetwork(path)`` runs it with onnxruntime: the CUDA provider when onnxruntime-gpu sees a GPU,
else the CPU; it returns the same :class:`core.recon.model.Prediction` as the torch network.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from core.io.atomic import atomic_path
from core.recon.loading import load_network
from core.recon.model import Prediction, ReconstructionNet

INPUTS = ("image", "mask", "canonical", "uv", "visible", "facing")
OUTPUTS = ("colour", "offset", "log_scale", "rotation", "opacity_logit")


class _Outputs(torch.nn.Module):
    """The network with a tuple output (what the exporter needs)."""

    def __init__(self, model: ReconstructionNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        prediction = self.model(*inputs)
        return tuple(getattr(prediction, name) for name in OUTPUTS)


def export_onnx(folder: str | os.PathLike[str], path: str | os.PathLike[str], opset: int = 17) -> Path:
    """Export the trained network in ``folder`` to ``path`` (.onnx)."""
    model, query, _ = load_network(folder)
    size, count = model.config.image_size, len(query.triangles)
    example = (torch.zeros(1, 3, size, size), torch.zeros(1, 1, size, size), torch.zeros(1, count, 3),
               torch.zeros(1, count, 2), torch.zeros(1, count), torch.zeros(1, count))
    target = Path(path)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused attention kernel has no ONNX export
    try:
        with atomic_path(target) as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
            torch.onnx.export(_Outputs(model), example, str(tmp), input_names=list(INPUTS),
                              output_names=list(OUTPUTS), opset_version=opset, dynamo=False)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return target


class OnnxNetwork:
    """An exported network run by onnxruntime; call it like the torch network (batch 1)."""

    def __init__(self, path: str | os.PathLike[str], threads: int = 1) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
                     if p in onnxruntime.get_available_providers()]
        self.session = onnxruntime.InferenceSession(str(path), options, providers=providers)

    def __call__(self, **inputs: torch.Tensor) -> Prediction:
        feed = {name: inputs[name].detach().float().contiguous().numpy() for name in INPUTS}
        outputs = self.session.run(list(OUTPUTS), feed)
        return Prediction(*(torch.from_numpy(value) for value in outputs))


def cached_onnx(folder: str | os.PathLike[str], cache_dir: str | os.PathLike[str]) -> Path:
    """The ONNX export of the network in ``folder``, made once into ``cache_dir`` (named by a hash of
    the weights, so a retrained network gets a new file)."""
    import hashlib

    digest = hashlib.sha256(Path(folder, "model.safetensors").read_bytes()).hexdigest()[:16]
    target = Path(cache_dir) / f"network-{digest}.onnx"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        export_onnx(folder, target)
    return target
