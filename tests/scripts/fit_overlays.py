"""Fit every shared test photo and save overlays for a person to look at.

    python tests/scripts/fit_overlays.py [PHOTO_DIR] [-o OUT_DIR]

Writes ``<photo>_overlay.png`` (mask outline, keypoints, fitted silhouette and skeleton) and
``<photo>_fit.json`` per photo, and prints IoU, keypoint error and time. Group photos are fitted
on their largest person (``allow_several``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from core.body.anny_body import AnnyBody
    from core.camera import frame_person
    from core.detect.person import DetectionError, PersonDetector
    from core.fit.fit_body import fit_body
    from core.fit.overlay import draw_overlay
    from core.io.images import load_image
    from core.io.video import write_image

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("photos", nargs="?", default=str(ROOT.parent / "shared" / "photos"))
    parser.add_argument("-o", "--output", default="avatarium-output/fit-overlays")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    body = AnnyBody()
    paths = sorted(p for p in Path(args.photos).iterdir()
                   if p.suffix.lower() in (".png", ".jpg", ".jpeg") and not p.stem.endswith("_mask"))
    with PersonDetector() as detector:
        for path in paths:
            photo = load_image(path)
            try:
                observation = detector.observe(photo, allow_several=True)
            except DetectionError as exc:
                print(f"{path.name}: {exc}")
                continue
            fit = fit_body(body, observation, frame_person(photo.rgb, observation.mask, observation.box))
            fit.save(out / f"{path.stem}_fit.json")
            write_image(out / f"{path.stem}_overlay.png", draw_overlay(photo.rgb, observation, fit, body))
            half = " (half body)" if observation.half_body else ""
            print(f"{path.name}{half}: silhouette IoU {fit.silhouette_iou:.3f}, keypoint error "
                  f"{fit.mean_residual:.1f} px, quality {fit.quality:.2f}, {fit.seconds:.1f} s")
    print(f"Overlays in {out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
