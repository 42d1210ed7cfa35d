"""Write small phantom NIfTI test fixtures in several orientations to test/fixtures/ct/.

  /usr/bin/python3 training/ct/make_fixtures.py

Each fixture is a phantom (fixture seeds 30000+) rendered at 4 x 4 x 3 mm (x, y, z) in LPS (z, y, x), cropped to 40 slices,
with a tight field of view and no added noise (blur only) so the gzip stays small, stored as int16 HU + uint8 labels (0 bg, 1 liver,
2 spleen, 3 pancreas) on the same grid in the given orientation.
NIfTI world = RAS+; the canonical LPS array (z, y, x) transposed to (x, y, z) has affine diag(-sx, -sy, sz).
"""
import json
import os
import sys

import nibabel as nib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataset import to_lps_zyx  # noqa: E402
from phantom import Phantom, split_seeds  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "ct")
SPACING = (3.0, 4.0, 4.0)  # (z, y, x) mm
ORIENTS = [("LPS", "phantom_lps"), ("RAS", "phantom_ras"), ("PSR", "phantom_psr")]


def lps_nifti(arr_zyx, spacing_zyx, origin_zyx, dtype):
    sz, sy, sx = spacing_zyx
    oz, oy, ox = origin_zyx  # LPS world of voxel 0
    aff = np.array([[-sx, 0, 0, -ox], [0, -sy, 0, -oy], [0, 0, sz, oz], [0, 0, 0, 1]], float)
    img = nib.Nifti1Image(np.ascontiguousarray(np.transpose(arr_zyx, (2, 1, 0))).astype(dtype), aff)
    img.header.set_xyzt_units("mm", "sec")
    img.set_qform(aff, code=1)
    img.set_sform(aff, code=1)
    return img


def reorient(img, codes):
    tr = nib.orientations.ornt_transform(nib.orientations.io_orientation(img.affine),
                                         nib.orientations.axcodes2ornt(tuple(codes)))
    out = img.as_reoriented(tr)
    out.set_qform(out.affine, code=1)
    out.set_sform(out.affine, code=1)
    return out


def centroid_ras(lab_img, k):
    idx = np.argwhere(np.asanyarray(lab_img.dataobj) == k)
    return nib.affines.apply_affine(lab_img.affine, idx.mean(0))


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = []
    for seed, (codes, name) in zip(split_seeds("fixture", len(ORIENTS)), ORIENTS):
        ph = Phantom(seed)
        ph.noise_sigma = 0.0
        # tight field of view around the body (keeps the gzip small)
        ph.fov_x = (-ph.body_ax - 6.0, ph.body_ax + 6.0)
        ph.fov_y = (-ph.body_ay - 6.0, ph.body_ay + 6.0)
        c = ph.render(SPACING)
        img, lab = c["image"], c["label"]
        zc = int(np.argwhere(lab == 3)[:, 0].mean()) if (lab == 3).any() else img.shape[0] // 2
        z0 = int(np.clip(zc - 20, 0, max(0, img.shape[0] - 40)))
        img, lab = img[z0:z0 + 40], lab[z0:z0 + 40]
        origin = (c["origin"][0] + 3.0 * z0, c["origin"][1], c["origin"][2])
        ni = reorient(lps_nifti(img, c["spacing"], origin, np.int16), codes)
        nl = reorient(lps_nifti(lab, c["spacing"], origin, np.uint8), codes)
        assert nib.aff2axcodes(ni.affine) == tuple(codes), nib.aff2axcodes(ni.affine)
        assert np.allclose(ni.affine, nl.affine)
        # anatomy check in world RAS coordinates: liver is on the patient's right (larger x than the spleen)
        cl, cs = centroid_ras(nl, 1), centroid_ras(nl, 2)
        assert cl[0] > cs[0], (name, cl, cs)
        # round trip through the loader used for training must give back the canonical LPS array
        back, sp = to_lps_zyx(ni)
        assert np.array_equal(back, img) and np.allclose(sp, c["spacing"]), name
        pi, pl = os.path.join(OUT, name + ".nii.gz"), os.path.join(OUT, name + "_labels.nii.gz")
        nib.save(ni, pi)
        nib.save(nl, pl)
        for p in (pi, pl):
            assert os.path.getsize(p) < 300_000, (p, os.path.getsize(p))
        counts = {n: int((lab == k).sum()) for k, n in ((1, "liver"), (2, "spleen"), (3, "pancreas"))}
        meta.append({"file": name + ".nii.gz", "labels": name + "_labels.nii.gz", "seed": seed,
                     "axcodes": "".join(codes), "shapeXYZ": list(ni.shape), "spacingMmZYX": list(SPACING),
                     "canonicalShapeZYX": list(img.shape), "voxelCounts": counts,
                     "liverCentroidRAS": [round(float(v), 1) for v in cl],
                     "spleenCentroidRAS": [round(float(v), 1) for v in cs], "phase": ph.phase,
                     "bytes": [os.path.getsize(pi), os.path.getsize(pl)]})
        print(meta[-1])
    with open(os.path.join(OUT, "fixtures.json"), "w") as f:
        json.dump({"description": "Synthetic CT phantoms (training/ct/make_fixtures.py); labels 0 bg, 1 liver, "
                                  "2 spleen, 3 pancreas; int16 HU; same canonical LPS content in different storage "
                                  "orientations.", "cases": meta}, f, indent=1)


if __name__ == "__main__":
    main()
