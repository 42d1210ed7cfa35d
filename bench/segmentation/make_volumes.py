"""Benchmark volumes for bench/segmentation: held-out phantoms (seeds of the "test" split) as NIfTI.

  /usr/bin/python3 bench/segmentation/make_volumes.py [--out .cache/bench-ct]

Writes, each with its reference label map (0 bg, 1 liver, 2 spleen, 3 pancreas):
  large_512x512x300.nii.gz   512 x 512 x 300 voxels at 0.8 x 0.8 x 1.5 mm (the issue's size)
  medium_*.nii.gz            two phantoms at their natural field of view, 0.8 x 0.8 x 2.5 mm
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "training", "ct"))
from make_fixtures import lps_nifti  # noqa: E402
from phantom import Phantom, split_seeds  # noqa: E402
import nibabel as nib  # noqa: E402


def save(ph, spacing, name, out):
    c = ph.render(spacing)
    img, lab = c["image"], c["label"]
    nib.save(lps_nifti(img, c["spacing"], c["origin"], np.int16), os.path.join(out, name + ".nii.gz"))
    nib.save(lps_nifti(lab, c["spacing"], c["origin"], np.uint8), os.path.join(out, name + "_labels.nii.gz"))
    print(name, img.shape, {k: int((lab == k).sum()) for k in (1, 2, 3)}, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", ".cache", "bench-ct"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    seeds = split_seeds("test", 3)
    ph = Phantom(seeds[0])
    # Exactly 512 x 512 x 300 voxels at 0.8 x 0.8 x 1.5 mm, centred on the body.
    for axis, n, s in (("x", 512, 0.8), ("y", 512, 0.8), ("z", 300, 1.5)):
        lo, hi = getattr(ph, "fov_" + axis)
        centre = (lo + hi) / 2
        setattr(ph, "fov_" + axis, (centre - n * s / 2, centre + n * s / 2))
    save(ph, (1.5, 0.8, 0.8), "large_512x512x300", args.out)
    for i, seed in enumerate(seeds[1:]):
        save(Phantom(seed), (2.5, 0.8, 0.8), f"medium_{i}", args.out)


if __name__ == "__main__":
    main()
