"""The ``avatarium`` command line: one module per command group, each registering its sub-commands.

Exit codes: 0 success, 1 the job failed (message on stderr), 2 bad command-line usage, 130 interrupted.
GUI subcommands import the Qt app lazily, so headless subcommands work without a display.
"""

from __future__ import annotations

import argparse
import os
import sys

import core
from cli import bench, capture, display, evaluation, network, photo
from cli.common import set_threads


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="avatarium",
        description="One photo of a person → an animatable 3D Gaussian avatar.",
    )
    parser.add_argument("--version", action="version", version=f"avatarium {core.__version__}")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("AVATARIUM_THREADS", "1")),
                        help="torch CPU threads (default: $AVATARIUM_THREADS or 1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (display, photo, capture, network, evaluation, bench):
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("avatarium: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI's last line of defence: a message, not a traceback
        if os.environ.get("AVATARIUM_DEBUG"):
            raise
        print(f"avatarium: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("(set AVATARIUM_DEBUG=1 to see the full traceback)", file=sys.stderr)
        return 1
