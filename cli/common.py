"""What the command modules share: threads, progress bars on stderr, the network folder, the body
model, the options of commands that reconstruct photos."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

DEFAULT_OUTPUT = Path("avatarium-output")
PRESETS = ("fast", "balanced", "best")  # core.pipeline.PRESETS, named here so --help does not import torch


def set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(max(1, threads))


def counter(unit: str) -> Callable[[int, int], None]:
    """A one-line progress bar on stderr counting ``unit`` (e.g. "frames")."""
    def show(done: int, total: int) -> None:
        width = 30
        filled = round(width * done / total)
        end = "\n" if done == total else ""
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {unit}", end=end, file=sys.stderr,
              flush=True)

    return show


def stage_progress(fraction: float, message: str) -> None:
    """A one-line progress bar on stderr for staged jobs."""
    width = 30
    filled = round(width * fraction)
    end = "\n" if fraction >= 1.0 else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {message:<40}", end=end, file=sys.stderr, flush=True)


def counts(minimum: int):
    """An argparse type: comma-separated whole numbers, each at least ``minimum``."""

    def parse(text: str) -> list[int]:
        try:
            values = [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
        if not values or min(values) < minimum:
            raise argparse.ArgumentTypeError(f"values must be at least {minimum}")
        return values

    return parse


def model_dir(args: argparse.Namespace) -> Path:
    """The network folder of ``--model``, or the bundled network."""
    from core.resources import shipped_model_dir

    return Path(args.model) if args.model else shipped_model_dir()


def load_body(name: str, smplx_dir: str | None = None):
    """The body model by name (see :func:`core.body.model.load_body_model`)."""
    from core.body.loading import load_body_model

    return load_body_model(name, smplx_dir)


def add_reconstruction_options(parser: argparse.ArgumentParser, output: str) -> None:
    """The options of a command that reconstructs photos: network, preset, body model, JSON report."""
    parser.add_argument("--model", help="network folder (default: the bundled network)")
    parser.add_argument("--preset", choices=PRESETS, default="balanced", help="fit, Gaussians and refinement")
    parser.add_argument("--body", choices=["anny", "smplx"], default="anny", help="body model")
    parser.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz")
    parser.add_argument("-o", "--output", default=output, help="JSON report path")


def report(output: str | Path, benchmark: str, results: dict) -> int:
    """Write ``results`` as the JSON report ``output`` (:func:`core.bench.write_report`), say where; 0."""
    from core.bench import write_report

    print(f"Wrote {write_report(output, benchmark, results)}")
    return 0
