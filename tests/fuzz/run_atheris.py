"""Coverage-guided fuzzing of one reader with atheris (``pip install atheris``), from the repo root:

    python -m tests.fuzz.run_atheris png -atheris_runs=20000 [-max_len=65536]

Targets are :func:`tests.fuzz.readers.readers` (png, jpeg, ply, amass, motion_json, bundle, fit,
smplx, config, network, session); the seed corpus is each reader's valid file. It stops at the
first input that escapes the reader's documented error (libFuzzer saves it as ``crash-*``) and
prints how many inputs ran.
"""

from __future__ import annotations

import atexit
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["core"]):  # the readers' modules, imported here to be instrumented
    import core.body.motion_files  # noqa: F401
    import core.body.smplx_body  # noqa: F401
    import core.fit.result  # noqa: F401
    import core.io.images  # noqa: F401
    import core.io.ply  # noqa: F401
    import core.persist.bundle  # noqa: F401
    import core.persist.session  # noqa: F401
    import core.recon.infer  # noqa: F401
    import core.train.train  # noqa: F401
from tests.fuzz.readers import check, readers  # noqa: E402


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    targets = {reader.name: reader for reader in readers()}
    if sys.argv[1] not in targets:
        raise SystemExit(f"unknown target {sys.argv[1]!r}; targets: {', '.join(targets)}")
    reader = targets[sys.argv[1]]
    work = Path(tempfile.mkdtemp(prefix=f"fuzz-{reader.name}-"))
    corpus = work / "corpus"
    corpus.mkdir()
    (corpus / "seed").write_bytes(reader.seed(work))
    counts = {"ok": 0, "error": 0}

    def one_input(data: bytes) -> None:
        counts[check(reader, data, work)] += 1

    atexit.register(lambda: print(f"{reader.name}: {sum(counts.values())} inputs, {counts['ok']} read, "
                                  f"{counts['error']} refused with the documented error", flush=True))
    atheris.Setup([sys.argv[0], *sys.argv[2:], str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
