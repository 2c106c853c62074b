"""Commands that make the network: ``synth`` (synthetic training people), ``train`` and ``export-onnx``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cli.common import (
    counter,
    load_body,
)


def _cmd_synth(args: argparse.Namespace) -> int:
    from core.recon.query import load_layout
    from core.resources import shipped_model_dir
    from core.train.dataset import generate

    if args.train < 0 or args.heldout < 0 or args.train + args.heldout == 0:
        print("avatarium: --train and --heldout must be ≥ 0 and not both 0", file=sys.stderr)
        return 2
    body = load_body(args.body, args.smplx_dir)
    query = None
    if args.query == "fresh":
        print(f"Computing a fresh layout of {args.points} query points (no network was trained on it)")
    elif args.query:
        query = load_layout(args.query)
        print(f"Query points of {args.query} ({len(query.triangles)} points)")
    else:
        shipped = load_layout(shipped_model_dir())
        if body.name == "anny" and len(shipped.triangles) == args.points:
            query = shipped
            print(f"Query points of the shipped network ({args.points} points)")
        else:
            print(f"No shipped network uses {args.points} points on the {body.name} body: computing a fresh layout")
    folder = generate(args.folder, body, args.train, args.heldout, size=args.size, points=args.points,
                      seed=args.seed, progress=counter("people"), query=query)
    print(f"Wrote {args.train} training and {args.heldout} held-out people to {folder.resolve()}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from core.train.train import load_config, train

    model_config, train_config = load_config(args.config)
    if args.steps:
        import dataclasses

        train_config = dataclasses.replace(train_config, steps=args.steps)
    if args.processes > 1:
        from core.train.distributed import launch

        launch(args.processes, args.data, args.output, model_config, train_config, resume=args.resume,
               threads=args.threads)
        print(f"Checkpoint in {Path(args.output).resolve()}")
        return 0
    evaluation = train(args.data, args.output, model_config, train_config, resume=args.resume,
                       log=lambda line: print(line, flush=True))
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"Checkpoint in {Path(args.output).resolve()}; held-out: "
              + ", ".join(f"{k} {v:.2f} dB" for k, v in evaluation.items()))
    return 0


def _cmd_export_onnx(args: argparse.Namespace) -> int:
    from core.recon.onnx_runtime import export_onnx

    if Path(args.output).suffix.lower() != ".onnx":
        print("avatarium: the exported network is written as .onnx", file=sys.stderr)
        return 2
    target = export_onnx(args.model, args.output)
    print(f"Wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the ``avatarium`` parser."""
    synth = sub.add_parser("synth", help="generate synthetic training people (photos + ground truth) into a folder")
    synth.add_argument("folder", help="dataset folder (created; layout in core/train/dataset.py and the README)")
    synth.add_argument("--train", type=int, default=800, help="training people (default 800)")
    synth.add_argument("--heldout", type=int, default=30, help="held-out people, never used for training")
    synth.add_argument("--size", type=int, default=256, help="photo size in pixels (square)")
    synth.add_argument("--points", type=int, default=6000, help="query points per person")
    synth.add_argument("--query", help="the query-point layout: a model folder or query.npz (default: the shipped "
                       "network's, so it can be scored and fine-tuned on the data), or 'fresh' to compute a new one")
    synth.add_argument("--seed", type=int, default=0, help="dataset seed")
    synth.add_argument("--body", choices=["anny", "smplx"], default="anny", help="body model")
    synth.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz")
    synth.set_defaults(func=_cmd_synth)

    train_cmd = sub.add_parser("train", help="train the reconstruction network on a synthetic dataset")
    train_cmd.add_argument("--data", required=True, help="dataset folder written by 'avatarium synth'")
    train_cmd.add_argument("-o", "--output", required=True, help="checkpoint folder")
    train_cmd.add_argument("--config", help='JSON {"model": {…}, "train": {…}} (default: built-in sizes)')
    train_cmd.add_argument("--steps", type=int, help="override the config's number of steps")
    train_cmd.add_argument("--resume", action="store_true", help="continue from the checkpoint in the output folder")
    train_cmd.add_argument("--processes", type=int, default=1, help="data-parallel processes on this machine "
                           "(gloo on CPU, one GPU each on CUDA); or start under torchrun")
    train_cmd.set_defaults(func=_cmd_train)

    onnx = sub.add_parser("export-onnx", help="export a trained network to ONNX (runs with onnxruntime)")
    onnx.add_argument("model", help="network folder (model.safetensors, checkpoint.json, query.npz)")
    onnx.add_argument("-o", "--output", required=True, help=".onnx file to write")
    onnx.set_defaults(func=_cmd_export_onnx)
