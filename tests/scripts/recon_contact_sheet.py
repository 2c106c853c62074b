"""Contact sheet of the reconstruction network on real photos: input | network back | baseline back.

    python tests/scripts/recon_contact_sheet.py [MODEL_DIR] [PHOTO_DIR] [-o sheet.png]

For each photo: detect the person, fit the body, run the network, and render the fitted body from
behind painted with the network's colours and with the mirror baseline's (the photo's colour where
seen, the mirror point's where that is seen). Group photos use their most prominent person.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from PIL import Image, ImageDraw

    from core.body.anny_body import AnnyBody
    from core.body.model import canonical_body
    from core.camera import frame_person, orbit_viewmats
    from core.detect.person import DetectionError, PersonDetector
    from core.evaluation.views import SurfacePainter
    from core.fit.fit_body import fit_body
    from core.io.images import load_image
    from core.io.video import write_image
    from core.recon.infer import Reconstructor
    from core.train.train import mirror_baseline

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", default=str(ROOT / "resources" / "models" / "avatarium-small"))
    parser.add_argument("photos", nargs="?", default=str(ROOT.parent / "shared" / "photos"))
    parser.add_argument("-o", "--output", default="avatarium-output/recon-contact-sheet.png")
    parser.add_argument("--size", type=int, default=256, help="tile size in pixels")
    args = parser.parse_args()
    torch.set_num_threads(1)
    body = AnnyBody()
    reconstructor = Reconstructor(args.model, body)
    paths = sorted(p for p in Path(args.photos).iterdir()
                   if p.suffix.lower() in (".png", ".jpg", ".jpeg") and not p.stem.endswith("_mask"))
    rows = []
    with PersonDetector() as detector:
        for path in paths:
            photo = load_image(path)
            try:
                observation = detector.observe(photo, allow_several=True)
            except DetectionError as exc:
                print(f"{path.name}: {exc}")
                continue
            fit = fit_body(body, observation, frame_person(photo.rgb, observation.mask, observation.box))
            inputs, prediction = reconstructor(photo.rgb, observation, fit)
            canonical, _ = canonical_body(body, fit.shape)
            painter = SurfacePainter(body, reconstructor.query, canonical, inputs.vertices)
            target = inputs.posed.mean(0).numpy()
            facing = math.degrees(float(fit.pose[0, 1]))  # look at the back of the body, whatever its turn
            back = torch.tensor(orbit_viewmats(1, target, 2.6, 5.0, 180.0 + facing), dtype=torch.float32)
            K = torch.tensor([[args.size * 1.2, 0, args.size / 2], [0, args.size * 1.2, args.size / 2], [0, 0, 1.0]])
            network, _ = painter.render(prediction.colour[0], prediction.offset[0], back, K, args.size)
            baseline, _ = painter.render(mirror_baseline(inputs.tensors, reconstructor.query)[0], None, back, K,
                                         args.size)
            crop = np.asarray(Image.fromarray(frame_person(photo.rgb, observation.mask, observation.box,
                                                           size=args.size).image))
            tiles = [crop] + [(img[0].numpy() * 255 + 0.5).astype(np.uint8) for img in (network, baseline)]
            row = Image.fromarray(np.concatenate(tiles, 1))
            ImageDraw.Draw(row).text((4, 4), path.stem[:28], fill=(255, 255, 0))
            rows.append(np.asarray(row))
            print(f"{path.name}: fitted (IoU {fit.silhouette_iou:.2f}), "
                  f"{int(inputs.tensors['visible'].sum())} of {inputs.posed.shape[0]} points seen")
    sheet = np.concatenate(rows, 0)
    write_image(args.output, sheet)
    print(f"Contact sheet (input | network back view | mirror-baseline back view): {Path(args.output).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
