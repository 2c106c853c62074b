"""gsplat (CUDA) and our CPU backends (numba, torch) draw the same images. Needs a CUDA GPU with gsplat installed
(the 'cuda' extra); skipped, with that reason, everywhere else."""

import pytest
import torch

from core.render.rasterize import rasterize

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA GPU and gsplat ('avatarium[cuda]'); none on this machine")


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_gsplat_matches_cpu_backends(backend):
    pytest.importorskip("gsplat", reason="gsplat is not installed (pip install 'avatarium[cuda]')")
    from test_rasterize import camera, scene

    params = [p.float() for p in scene(seed=2, n=200)]
    view, K = (t.float() for t in camera(96, 80))
    bg = torch.tensor([[0.1, 0.2, 0.3]])
    ours, our_alpha, _ = rasterize(*params, view, K, 96, 80, backgrounds=bg, backend=backend)
    cuda = [p.cuda() for p in params]
    theirs, their_alpha, _ = rasterize(*cuda, view.cuda(), K.cuda(), 96, 80, backgrounds=bg.cuda(), backend="gsplat")
    assert (theirs.cpu() - ours).abs().mean() < 1e-3
    assert (their_alpha.cpu() - our_alpha).abs().mean() < 1e-3


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_cpu_backends_refuse_cuda_tensors(backend):
    from test_rasterize import camera, scene

    params = [p.float().cuda() for p in scene(n=12)]
    view, K = (t.float().cuda() for t in camera(16, 16))
    with pytest.raises(ValueError, match="runs on the CPU"):
        rasterize(*params, view, K, 16, 16, backend=backend)
