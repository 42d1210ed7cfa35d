"""Benchmark volumes for bench/segmentation: held-out phantoms (seeds of the "test" split) as NIfTI.

  /usr/bin/python3 bench/segmentation/make_volumes.py [--out .cache/bench-ct]

Writes, each with its reference label map (0 bg, 1 liver, 2 spleen, 3 pancreas):
  large_512x512x300.nii.gz   512 x 512 x 300 voxels at 0.8 x 0.8 x 1.5 mm (the issue's size)
  medium_*.nii.gz            two phantoms at their natural field of view, 0.8 x 0.8 x 2.5 mm
  word_0103_1mm.nii.gz       (--word, instead of the phantoms) real anatomy: the first held-out WORD label map (validation, never
                             trained on) synthesised as CT at 1 mm isotropic over its whole field of view
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
    ap.add_argument("--word", action="store_true", help="only the real-anatomy volume (needs ../shared/data/ct-labels)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.word:
        import synth
        path = synth.split_cases(synth.word_cases())[1][0]  # word_0103: validation, never trained on
        lab = synth.load_word(path, 1.0)
        img = synth.synthesize(lab, np.random.default_rng(103), spacing=1.0, phase="portal")
        ours = synth.ours(lab)
        name = os.path.basename(path).split(".")[0] + "_1mm"
        nib.save(lps_nifti(np.rint(img), (1.0,) * 3, (0.0,) * 3, np.int16), os.path.join(args.out, name + ".nii.gz"))
        nib.save(lps_nifti(ours, (1.0,) * 3, (0.0,) * 3, np.uint8), os.path.join(args.out, name + "_labels.nii.gz"))
        print(name, img.shape, {k: int((ours == k).sum()) for k in (1, 2, 3)}, flush=True)
        return
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
