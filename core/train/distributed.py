"""Data-parallel training on one machine without ``torchrun``: ``launch(processes, …)`` starts that
many processes (gloo on CPU, NCCL on CUDA GPUs, one GPU per process), each running
:func:`core.train.train.train` as one rank. ``torchrun --nproc_per_node N -m cli train …`` works
the same way on one or several machines.
"""

from __future__ import annotations

import os
import socket

import torch
import torch.distributed as dist

from core.recon.model import ModelConfig
from core.train.train import TrainConfig, train


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, world: int, port: int, data: str, output: str, model_config: ModelConfig,
            train_config: TrainConfig, resume: bool, threads: int) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(world))
    torch.set_num_threads(threads)
    try:
        train(data, output, model_config, train_config, resume=resume,
              log=(lambda line: print(line, flush=True)) if rank == 0 else (lambda _: None))
        # every rank leaves together: a rank that tears gloo down while another still talks to it
        # aborts its process ("terminate called without an active exception")
        dist.barrier()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def launch(processes: int, data: str | os.PathLike[str], output: str | os.PathLike[str], model_config: ModelConfig,
           train_config: TrainConfig, resume: bool = False, threads: int = 1) -> None:
    """Train with ``processes`` data-parallel ranks on this machine (blocks until all finish)."""
    if processes < 2:
        raise ValueError("launch needs at least 2 processes; call train() for one")
    if torch.cuda.is_available() and torch.cuda.device_count() < processes:
        raise ValueError(f"{processes} processes need {processes} GPUs, this machine has {torch.cuda.device_count()}")
    torch.multiprocessing.spawn(_worker, nprocs=processes, join=True,
                                args=(processes, _free_port(), str(data), str(output), model_config, train_config,
                                      resume, threads))
