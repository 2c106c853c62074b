"""``avatarium train``: fit the reconstruction network to a synthetic dataset, with checkpoints and resume.

The loss supervises every query point directly (its ground-truth albedo and outward offset are known
from the outfit): mean squared colour error with points hidden in the photo weighted ``hidden_weight``
times (the back is what the network is for), plus the squared offset error. With a ``render``
section in the config the render losses of :mod:`core.train.render_loss` are added (images of the
predicted and true Gaussians from random cameras; they alone train scale, rotation and opacity).
``init`` starts from another model's weights (fine-tuning); they must share the dataset's query
points. AdamW, linear warm-up then cosine decay to 5 %. Every ``eval_every`` steps the held-out
people are scored (per-point colour PSNR, all points and hidden points) next to the no-learning
mirror baseline.

Files in the output folder: ``model.safetensors`` (weights), ``query.npz`` (the query points the
network was trained with), ``optimizer.safetensors`` +
``checkpoint.json`` (step, configs, elapsed time, last evaluation: what ``--resume`` needs) and
``metrics.jsonl`` (one JSON object per logged step or evaluation). All written atomically.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from core.io.atomic import atomic_path, write_bytes_atomic
from core.recon.loading import build_model, load_weights
from core.recon.model import ModelConfig, Prediction, ReconstructionNet, sample_image
from core.recon.query import QueryPoints, same_layout
from core.train.dataset import load_split
from core.train.render_loss import RenderLossConfig, render_terms


class TrainingError(ValueError):
    """Training cannot start or resume; the message says why."""


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 4000
    batch: int = 8
    learning_rate: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.01
    hidden_weight: float = 3.0
    offset_weight: float = 100.0  # per m² of offset error
    points: int = 2000  # random query points supervised per person and step (0: all)
    eval_every: int = 250
    log_every: int = 10
    seed: int = 0
    minutes: float = 0.0  # stop after this much training time (0: run all steps)
    render: RenderLossConfig | None = None  # render losses (None: per-point losses only)
    init: str = ""  # model folder whose weights training starts from ("": random initialisation); in a
    #                 config file, relative to the file's folder ("." : the network the config ships with)

    def __post_init__(self) -> None:
        if isinstance(self.render, dict):
            object.__setattr__(self, "render", RenderLossConfig(**self.render))
        if self.render is not None and not isinstance(self.render, RenderLossConfig):
            raise ValueError("render must be a JSON object of render-loss settings")
        if not isinstance(self.init, str):
            raise ValueError("init must be a model folder path")
        for name in ("steps", "batch", "warmup", "points", "eval_every", "log_every", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**9:
                raise ValueError(f"{name} must be a whole number from 0 to 10^9, got {value!r}")
        if self.steps < 1 or self.batch < 1 or self.eval_every < 1 or self.log_every < 1:
            raise ValueError("steps, batch, eval_every and log_every must be at least 1")
        for name in ("learning_rate", "weight_decay", "hidden_weight", "offset_weight", "minutes"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
                    or value < 0:
                raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        if not isinstance(data, dict):
            raise ValueError("the training config must be a JSON object")
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def load_config(path: str | os.PathLike[str] | None) -> tuple[ModelConfig, TrainConfig]:
    """``{"model": {…}, "train": {…}}`` from a JSON file (None: the defaults); a relative ``init`` is
    taken from the file's folder."""
    if path is None:
        return ModelConfig(), TrainConfig()
    try:
        data = json.loads(Path(path).read_bytes()[:1_000_000])
        train = TrainConfig.from_dict(data.get("train", {}))
        if train.init:  # relative to the config file, so a config works from any working folder
            train = replace(train, init=str(Path(path).parent / train.init))
        return ModelConfig.from_dict(data.get("model", {})), train
    except (OSError, ValueError, TypeError, AttributeError, RecursionError) as exc:  # ValueError: bad JSON or text
        raise TrainingError(f"cannot read the training config {path}: {exc}") from None


def batch_tensors(arrays: dict[str, np.ndarray], index: np.ndarray) -> dict[str, torch.Tensor]:
    """Network inputs and targets of the people ``index`` as float tensors."""
    pick = {k: arrays[k][index] for k in ("image", "mask", "canonical", "frame", "uv", "visible", "facing", "albedo",
                                          "offset")}
    return {
        "frame": torch.from_numpy(pick["frame"]).float(),
        "image": torch.from_numpy(pick["image"]).permute(0, 3, 1, 2).float() / 255,
        "mask": torch.from_numpy(pick["mask"])[:, None].float() / 255,
        "canonical": torch.from_numpy(pick["canonical"]).float(), "uv": torch.from_numpy(pick["uv"]).float(),
        "visible": torch.from_numpy(pick["visible"]).float(), "facing": torch.from_numpy(pick["facing"]).float(),
        "albedo": torch.from_numpy(pick["albedo"]).float() / 255, "offset": torch.from_numpy(pick["offset"]).float(),
    }


def predict(model: ReconstructionNet, batch: dict[str, torch.Tensor], points: torch.Tensor | None = None
            ) -> Prediction:
    return model(batch["image"], batch["mask"], batch["canonical"], batch["uv"], batch["visible"], batch["facing"],
                 points)


def loss_terms(prediction: Prediction, batch: dict[str, torch.Tensor], config: TrainConfig, query: QueryPoints,
               rng: np.random.Generator, points: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Named loss terms (scalars, already weighted) of one step; ``rng`` draws the render cameras."""
    chosen = slice(None) if points is None else points
    visible, albedo, offset = batch["visible"][:, chosen], batch["albedo"][:, chosen], batch["offset"][:, chosen]
    weight = 1 + (config.hidden_weight - 1) * (1 - visible)
    colour = ((prediction.colour - albedo).square().mean(-1) * weight).sum() / weight.sum()
    terms = {"colour": colour, "offset": config.offset_weight * (prediction.offset - offset).square().mean()}
    if config.render is not None:
        terms.update(render_terms(prediction, batch, query.parts.to(colour.device), config.render, rng, points))
    return terms


def mirror_baseline(batch: dict[str, torch.Tensor], query: QueryPoints) -> torch.Tensor:
    """No-learning colours [B, P, 3]: the photo's colour where a point is seen, else its front/back
    partner's where that is seen, else its left/right partner's, else the mean seen colour."""
    seen = sample_image(batch["image"], batch["uv"], batch["image"].shape[-1])
    visible = batch["visible"][..., None]
    colour = (seen * visible).sum(1, keepdim=True).expand_as(seen) / visible.sum(1, keepdim=True).clamp_min(1)
    for partner in (query.mirror, query.opposite):  # the last assignment wins: own > opposite > mirror > mean
        colour = torch.where(visible[:, partner] > 0, seen[:, partner], colour)
    return torch.where(visible > 0, seen, colour)


def _psnr(prediction: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-person PSNR [B] (dB) of colours [B, P, 3] over the points where ``mask`` [B, P] is 1."""
    mse = ((prediction - truth).square().mean(-1) * mask).sum(1) / mask.sum(1).clamp_min(1)
    return -10 * torch.log10(mse.clamp_min(1e-10))


@torch.no_grad()
def evaluate(model: ReconstructionNet, arrays: dict[str, np.ndarray], query: QueryPoints, batch: int = 8) -> dict:
    """Mean per-person colour PSNR (all points, hidden points) of the network and the mirror baseline."""
    model.train(False)  # inference mode (dropout-free anyway)
    scores: dict[str, list[torch.Tensor]] = {k: [] for k in ("all", "hidden", "baseline_all", "baseline_hidden")}
    for start in range(0, len(arrays["image"]), batch):
        data = batch_tensors(arrays, np.arange(start, min(len(arrays["image"]), start + batch)))
        colour = predict(model, data).colour
        baseline = mirror_baseline(data, query)
        everywhere, hidden = torch.ones_like(data["visible"]), 1 - data["visible"]
        scores["all"].append(_psnr(colour, data["albedo"], everywhere))
        scores["hidden"].append(_psnr(colour, data["albedo"], hidden))
        scores["baseline_all"].append(_psnr(baseline, data["albedo"], everywhere))
        scores["baseline_hidden"].append(_psnr(baseline, data["albedo"], hidden))
    model.train()
    return {f"psnr_{k}": float(torch.cat(v).mean()) for k, v in scores.items()}


def _learning_rate(step: int, config: TrainConfig) -> float:
    if step < config.warmup:
        return config.learning_rate * (step + 1) / config.warmup
    progress = min(1.0, (step - config.warmup) / max(1, config.steps - config.warmup))
    return config.learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def _save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    with atomic_path(path) as tmp:
        save_file({k: v.detach().contiguous() for k, v in tensors.items()}, str(tmp))


def save_checkpoint(folder: Path, model: ReconstructionNet, optimiser: torch.optim.Optimizer, step: int,
                    model_config: ModelConfig, train_config: TrainConfig, elapsed: float, evaluation: dict) -> None:
    """Weights, optimiser moments and the JSON that ties them together (written last)."""
    state = optimiser.state_dict()
    moments = {f"{index}.{name}": value for index, entry in state["state"].items() for name, value in entry.items()
               if isinstance(value, torch.Tensor)}
    _save_tensors(folder / "model.safetensors", model.state_dict())
    _save_tensors(folder / "optimizer.safetensors", moments)
    meta = {"step": step, "model": asdict(model_config), "train": asdict(train_config), "elapsed_s": elapsed,
            "evaluation": evaluation, "param_groups": [{k: v for k, v in g.items() if k != "params"}
                                                       for g in state["param_groups"]]}
    write_bytes_atomic(folder / "checkpoint.json", (json.dumps(meta, indent=1) + "\n").encode())


def _start_from(model: ReconstructionNet, folder: Path, query: QueryPoints) -> None:
    """Load another model's weights; its query points must be the dataset's (the weights are tied to them)."""
    try:
        theirs = QueryPoints.load(folder / "query.npz")
    except (OSError, ValueError) as exc:
        raise TrainingError(f"cannot start from {folder}: {exc}") from None
    if not same_layout(theirs, query):
        raise TrainingError(f"{folder} was trained on other query points than this dataset's; make a dataset for "
                            f"it with `avatarium synth NEW_FOLDER --query {folder}`, or start from scratch")
    load_weights(model, folder / "model.safetensors")


def _resume(folder: Path, model: ReconstructionNet, optimiser: torch.optim.Optimizer) -> tuple[int, float]:
    from safetensors.torch import load_file

    try:
        meta = json.loads((folder / "checkpoint.json").read_text())
        load_weights(model, folder / "model.safetensors")
        moments = load_file(str(folder / "optimizer.safetensors"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainingError(f"cannot resume from {folder}: {exc}") from None
    state = optimiser.state_dict()
    for key, value in moments.items():
        index, name = key.split(".", 1)
        state["state"].setdefault(int(index), {})[name] = value
    optimiser.load_state_dict(state)
    return int(meta["step"]), float(meta.get("elapsed_s", 0.0))


@dataclass
class _Process:
    """This process's place in a (possibly distributed) run."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def _join_process_group() -> _Process:
    """Join the process group when started by ``torchrun`` or :mod:`core.train.distributed`
    (``WORLD_SIZE`` > 1): NCCL on CUDA, gloo on CPU. Otherwise a single CPU/CUDA process."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    if world <= 1:
        return _Process(device=torch.device("cuda" if cuda else "cpu"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    return _Process(dist.get_rank(), world, device)


def _agree(process: _Process, flag: bool) -> bool:
    """Rank 0's decision, shared with every rank (so all stop at the same step)."""
    if process.world == 1:
        return flag
    import torch.distributed as dist

    value = torch.tensor([1.0 if flag else 0.0], device=process.device)
    dist.broadcast(value, 0)
    return bool(value.item())


def _weights_checksum(model: torch.nn.Module) -> float:
    return float(sum(p.detach().double().abs().sum() for p in model.parameters()))


def _ranks_identical(process: _Process, model: torch.nn.Module) -> bool:
    """Whether every rank holds the same weights (all-gather of a checksum)."""
    if process.world == 1:
        return True
    import torch.distributed as dist

    mine = torch.tensor([_weights_checksum(model)], dtype=torch.float64, device=process.device)
    every = [torch.zeros_like(mine) for _ in range(process.world)]
    dist.all_gather(every, mine)
    return all(float(v) == float(mine) for v in every)


def train(data: str | os.PathLike[str], output: str | os.PathLike[str], model_config: ModelConfig,
          train_config: TrainConfig, resume: bool = False, log: Callable[[str], None] = print) -> dict:
    """Train (or resume) and return the last held-out evaluation. Runs on CUDA when available, and
    data-parallel (DDP) when started by ``torchrun`` or :func:`core.train.distributed.launch`: each
    rank draws its own batches, gradients are averaged, rank 0 writes every file."""
    process = _join_process_group()
    output = Path(output)
    _, query, arrays = load_split(data, "train")
    _, _, heldout = load_split(data, "heldout")
    if len(arrays["image"]) == 0:
        raise TrainingError(f"{data} has no training people")
    if arrays["image"].shape[1] != model_config.image_size:
        raise TrainingError(f"the dataset's photos are {arrays['image'].shape[1]}² but the model expects "
                            f"{model_config.image_size}²")
    torch.manual_seed(train_config.seed)  # the same initial weights on every rank
    model = build_model(model_config, query)
    optimiser = torch.optim.AdamW(model.parameters(), lr=train_config.learning_rate,
                                  weight_decay=train_config.weight_decay)
    if train_config.init and not resume:
        _start_from(model, Path(train_config.init), query)
    step, elapsed = _resume(output, model, optimiser) if resume else (0, 0.0)
    if process.main:
        output.mkdir(parents=True, exist_ok=True)
        query.save(output / "query.npz")  # the network is tied to its query points: keep them together
    model.to(process.device)
    network = model
    if process.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        network = DistributedDataParallel(model, device_ids=[process.device] if process.device.type == "cuda" else None)
    rng = np.random.default_rng([train_config.seed, step, process.rank])
    evaluation: dict = {}
    say = log if process.main else (lambda _: None)
    say(f"Training a {model.parameter_count():,}-parameter network on {len(arrays['image'])} people "
        f"(held out: {len(heldout['image'])}) from step {step} on {process.world} process(es), {process.device}")
    start = time.perf_counter() - elapsed
    stream = open(output / "metrics.jsonl", "a", encoding="utf-8") if process.main else None
    try:
        while step < train_config.steps:
            over = bool(train_config.minutes) and time.perf_counter() - start > 60 * train_config.minutes
            if _agree(process, over):
                say(f"Time budget of {train_config.minutes} min reached at step {step}")
                break
            for group in optimiser.param_groups:
                group["lr"] = _learning_rate(step, train_config)
            batch = {k: v.to(process.device) for k, v in
                     batch_tensors(arrays, rng.integers(0, len(arrays["image"]), train_config.batch)).items()}
            count = arrays["uv"].shape[1]
            points = (torch.from_numpy(rng.choice(count, train_config.points, replace=False)).to(process.device)
                      if 0 < train_config.points < count else None)
            terms = loss_terms(predict(network, batch, points), batch, train_config, query, rng, points)
            optimiser.zero_grad(set_to_none=True)
            sum(terms.values()).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            step += 1
            now = time.perf_counter() - start
            if stream is not None and (step % train_config.log_every == 0 or step == train_config.steps):
                row = {"step": step, "time_s": round(now, 2), "lr": optimiser.param_groups[0]["lr"],
                       **{k: round(float(v.detach()), 6) for k, v in terms.items()}}
                stream.write(json.dumps(row) + "\n")
                stream.flush()
                eta = (train_config.steps - step) * now / max(1, step)
                say(f"step {step}/{train_config.steps}  " + "  ".join(f"{k} {row[k]:.4f}" for k in terms) + "  "
                    f"{now / 60:.1f} min, ETA {eta / 60:.0f} min")
            if step % train_config.eval_every == 0 and step < train_config.steps and process.main:
                evaluation = _evaluate_and_save(output, model, optimiser, step, model_config, train_config, now,
                                                heldout, query, stream, process)
                say(f"eval at step {step}: " + ", ".join(f"{k} {v:.2f}" for k, v in evaluation.items()))
        identical = _ranks_identical(process, model)
        if process.main:
            evaluation = _evaluate_and_save(output, model, optimiser, step, model_config, train_config,
                                            time.perf_counter() - start, heldout, query, stream, process,
                                            {"processes": process.world, "ranks_identical": identical})
    finally:
        if stream is not None:
            stream.close()
    return evaluation


def _evaluate_and_save(output: Path, model: ReconstructionNet, optimiser: torch.optim.Optimizer, step: int,
                       model_config: ModelConfig, train_config: TrainConfig, now: float, heldout: dict,
                       query: QueryPoints, stream, process: _Process, extra: dict | None = None) -> dict:
    model.cpu()
    evaluation = evaluate(model, heldout, query) if len(heldout["image"]) else {}
    stream.write(json.dumps({"step": step, "time_s": round(now, 2), "eval": evaluation}) + "\n")
    stream.flush()
    save_checkpoint(output, model, optimiser, step, model_config, train_config, now, {**evaluation, **(extra or {})})
    model.to(process.device)
    return evaluation
