"""Label-to-image synthesis: CT-like volumes with real anatomy from the WORD label maps.

The WORD maps (../shared/data/ct-labels/word, GPL-3.0, research use only) label 16 abdominal
structures but not what surrounds them. Per case and draw this module paints:
  * the labelled structures with Hounsfield values drawn per contrast phase (native, arterial,
    portal-venous) from ranges typical of adult abdominal CT, with low-frequency texture;
    hollow organs get air pockets (stomach, colon, rectum, bowel) and stool texture (colon);
  * what the maps lack, from simple geometry anchored on the labelled organs (as the phantom
    generator does): an elliptical body outline around the organs, subcutaneous fat, an
    abdominal-wall muscle ring, visceral fat mixed with soft tissue, a vertebral column with
    cortical rim and spinal canal behind the kidneys' midpoint, paraspinal and psoas muscles,
    aorta and inferior vena cava in front of the spine, and ribs along the body wall;
  * scanner effects: Gaussian blur (in-plane 0.4-1.2 mm, slice profile 1-5 mm), noise 5-25 HU.
Everything is drawn at 2 mm isotropic (LPS, numpy axes z, y, x) and may be area-averaged to
4 mm. Splits are by case (`split_cases`), fixed before any training.
"""
import glob
import math
import os

import nibabel as nib
import numpy as np
from scipy import ndimage

WORD_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "ct-labels", "word")
# WORD ids
LIVER, SPLEEN, KID_L, KID_R, STOMACH, GALL, OESO, PANC, DUOD, COLON, INTEST, ADRENAL, RECTUM, BLADDER, FEM_L, FEM_R = range(1, 17)
# ours: 1 liver, 2 spleen, 3 pancreas
OURS = {LIVER: 1, SPLEEN: 2, PANC: 3}
PHASES = ("native", "arterial", "portal")
# (mean range, sd) in HU per phase for solid / fluid structures
HU = {
    "native": {LIVER: (50, 70), SPLEEN: (38, 55), PANC: (30, 50), KID_L: (25, 40), KID_R: (25, 40), GALL: (0, 20),
               OESO: (30, 45), DUOD: (25, 45), ADRENAL: (20, 40), BLADDER: (0, 15), "vessel": (35, 50), "muscle": (40, 60)},
    "arterial": {LIVER: (60, 85), SPLEEN: (90, 140), PANC: (90, 130), KID_L: (150, 230), KID_R: (150, 230), GALL: (0, 20),
                 OESO: (50, 80), DUOD: (60, 100), ADRENAL: (60, 100), BLADDER: (0, 15), "vessel": (220, 350), "muscle": (45, 65)},
    "portal": {LIVER: (95, 135), SPLEEN: (100, 140), PANC: (80, 120), KID_L: (140, 200), KID_R: (140, 200), GALL: (0, 20),
               OESO: (60, 90), DUOD: (70, 110), ADRENAL: (60, 100), BLADDER: (0, 20), "vessel": (140, 200), "muscle": (50, 70)},
}


def word_cases():
    return sorted(glob.glob(os.path.join(WORD_DIR, "word_*.nii.gz")))


def split_cases(paths):
    """Fixed split by case: the last 6 of the sorted list are validation, the rest training."""
    return paths[:-6], paths[-6:]


def load_word(path, spacing=2.0):
    """WORD label map -> (labels uint8 zyx on an isotropic `spacing` grid, LPS)."""
    nii = nib.load(path)
    if nib.aff2axcodes(nii.affine) != ("L", "P", "S"):
        raise ValueError(f"{path}: expected LPS, got {nib.aff2axcodes(nii.affine)}")
    lab = np.asanyarray(nii.dataobj).astype(np.uint8).transpose(2, 1, 0)
    sp = np.array(nii.header.get_zooms()[:3], dtype=float)[::-1]  # z, y, x
    shape = [max(1, int(round(n * s / spacing))) for n, s in zip(lab.shape, sp)]
    idx = [np.clip(np.floor((np.arange(m) * spacing) / s + 0.5).astype(int), 0, n - 1) for m, s, n in zip(shape, sp, lab.shape)]
    return np.ascontiguousarray(lab[np.ix_(*idx)])


def _smooth_noise(shape, rng, sigma_vox, amp):
    n = rng.standard_normal([max(2, s // 4) for s in shape]).astype(np.float32)
    n = ndimage.gaussian_filter(n, sigma_vox / 4.0)
    n = ndimage.zoom(n, [s / m for s, m in zip(shape, n.shape)], order=1)[: shape[0], : shape[1], : shape[2]]
    n = np.pad(n, [(0, s - m) for s, m in zip(shape, n.shape)], mode="edge")
    return n / (n.std() + 1e-6) * amp


def _ellipse_fit(mask2d):
    ys, xs = np.nonzero(mask2d)
    return ys.min(), ys.max(), xs.min(), xs.max()


def synthesize(lab, rng, spacing=2.0, phase=None):
    """lab: WORD ids on an isotropic grid (zyx, LPS). Returns float32 HU image of the same shape."""
    Z, Y, X = lab.shape
    phase = phase or rng.choice(PHASES, p=[0.3, 0.2, 0.5])
    hu = HU[phase]
    mm = spacing
    organs = lab > 0
    zz = np.nonzero(organs.any((1, 2)))[0]
    z0, z1 = zz.min(), zz.max()
    # ---- body outline: per slice an ellipse around the organs (interpolated between slices), margins random
    proj = organs[z0:z1 + 1].any(0)
    y0, y1, x0, x1 = _ellipse_fit(proj)
    cy, cx = (y0 + y1) / 2 + rng.uniform(-5, 10) / mm, (x0 + x1) / 2
    ry = (y1 - y0) / 2 + rng.uniform(25, 60) / mm
    rx = (x1 - x0) / 2 + rng.uniform(20, 55) / mm
    yy, xx = np.mgrid[0:Y, 0:X].astype(np.float32)
    # flatter posteriorly (the back), per-slice radius modulation along z
    zmod = 1.0 + 0.06 * np.sin(np.linspace(0, rng.uniform(1, 3), Z) + rng.uniform(0, 6)).astype(np.float32)
    dy = (yy - cy) / ry
    dy = np.where(dy > 0, dy * 1.25, dy)
    r2 = dy ** 2 + ((xx - cx) / rx) ** 2  # 2D
    body = r2[None] <= zmod[:, None, None] ** 2
    fat_sc = rng.uniform(8, 35) / mm
    # distance to body surface (in-plane, approximate by the ellipse radius ratio)
    rr = np.sqrt(r2)[None] / zmod[:, None, None]
    depth = (1 - rr) * min(rx, ry)  # voxels inside the outline
    img = np.full(lab.shape, -1000.0, dtype=np.float32)
    img[body] = rng.uniform(-110, -80)  # subcutaneous fat
    wall = body & (depth > fat_sc) & (depth < fat_sc + rng.uniform(6, 14) / mm)
    inner = body & (depth >= fat_sc + 6 / mm)
    visceral = rng.uniform(-100, -70) + _smooth_noise(lab.shape, rng, 6, 1.0) * rng.uniform(20, 60)
    img[inner] = np.clip(visceral[inner], -120, 40)
    img[wall] = rng.uniform(*hu["muscle"])
    # ---- spine, anchored between the kidneys (or the organs' centre), posterior
    kid = np.isin(lab, (KID_L, KID_R))
    if kid.any():
        kz, ky, kx = [np.nonzero(kid.any(ax))[0] for ax in ((1, 2), (0, 2), (0, 1))]
        sx = (kx.min() + kx.max()) / 2
        sy = ky.max() - rng.uniform(5, 25) / mm
    else:
        sx, sy = cx, cy + 0.55 * ry
    sx += rng.uniform(-5, 5) / mm
    vr = rng.uniform(15, 22) / mm
    dv = np.sqrt((yy - sy) ** 2 + (xx - sx) ** 2)
    disc = (np.arange(Z) * mm + rng.uniform(0, 30)) % rng.uniform(28, 34) < 6
    cort, canc = rng.uniform(500, 900), rng.uniform(150, 300)
    vb = dv <= vr
    for z in range(Z):
        if not body[z].any():
            continue
        sl = img[z]
        sl[vb] = 80 if disc[z] else canc
        sl[vb & (dv > vr - 2.5 / mm)] = 80 if disc[z] else cort
        # canal and posterior arch
        dc = np.sqrt((yy - (sy + vr + 8 / mm)) ** 2 + (xx - sx) ** 2)
        sl[(dc <= 14 / mm) & (dc > 8 / mm) & (yy > sy + vr)] = cort * 0.8
        sl[dc <= 8 / mm] = 20
        # paraspinal muscles
        for side in (-1, 1):
            dp = ((yy - (sy + vr + 20 / mm)) / (22 / mm)) ** 2 + ((xx - (sx + side * 30 / mm)) / (25 / mm)) ** 2
            sl[(dp <= 1) & body[z] & (sl < 0)] = hu["muscle"][0] + 10
            # psoas, lateral to the vertebral body
            dq = ((yy - sy) / (16 / mm)) ** 2 + ((xx - (sx + side * (vr + 18 / mm))) / (14 / mm)) ** 2
            if z < z0 + (z1 - z0) * 0.6:
                sl[(dq <= 1) & (sl < 0)] = hu["muscle"][0] + 5
        # aorta (patient's left = +x) and IVC (right) in front of the spine
        da = np.sqrt((yy - (sy - vr - 12 / mm)) ** 2 + (xx - (sx + 12 / mm)) ** 2)
        sl[(da <= 11 / mm) & (sl < 150)] = rng.uniform(*hu["vessel"]) if z == 0 else sl[(da <= 11 / mm) & (sl < 150)] * 0 + hu_vessel(hu, rng, z)
        di = np.sqrt((yy - (sy - vr - 8 / mm)) ** 2 + (xx - (sx - 25 / mm)) ** 2)
        sl[(di <= 11 / mm) & (sl < 150)] = hu_vessel(hu, rng, z) * (0.7 if phase == "arterial" else 1.0)
    # ribs: short arcs along the wall in the upper part of the organ range
    ribs = body & (depth > fat_sc + 2 / mm) & (depth < fat_sc + 8 / mm)
    ang = np.arctan2(yy - cy, xx - cx)
    rib_period = rng.uniform(20, 28) / mm
    zr = (np.arange(Z)[:, None, None] + ang[None] * rng.uniform(6, 10) / mm) % rib_period < 5 / mm
    upper = (np.arange(Z) > z0 + (z1 - z0) * 0.35)[:, None, None]
    rib_mask = ribs & zr & upper & (np.abs(ang)[None] > 0.5)
    img[rib_mask] = rng.uniform(300, 700)
    # ---- labelled structures
    tex = _smooth_noise(lab.shape, rng, 3, 1.0)
    for k in range(1, 17):
        m = lab == k
        if not m.any():
            continue
        if k in (COLON, RECTUM):
            air = _smooth_noise(lab.shape, rng, 3, 1.0) > rng.uniform(0.0, 1.2)
            v = np.where(air, -900.0, rng.uniform(-50, 60) + 40 * tex)
        elif k == INTEST:
            air = _smooth_noise(lab.shape, rng, 2, 1.0) > rng.uniform(1.0, 2.0)
            v = np.where(air, -850.0, rng.uniform(10, 60) + 20 * tex)
        elif k == STOMACH:
            # fluid or food, air rising anteriorly (low y)
            ys = np.nonzero(m.any((0, 2)))[0]
            level = ys.min() + (ys.max() - ys.min()) * rng.uniform(0.0, 0.4)
            v = np.where(yy[None] < level, -900.0, rng.uniform(0, 50) + 15 * tex)
        elif k in (FEM_L, FEM_R):
            v = rng.uniform(250, 500) + 40 * tex
        else:
            lo, hi = hu[k]
            v = rng.uniform(lo, hi) + rng.uniform(3, 10) * tex
        img[m] = v[m] if isinstance(v, np.ndarray) else v
    # vessels inside the liver in contrast phases (darker in native)
    if rng.random() < 0.8:
        liver = lab == LIVER
        ves = (_smooth_noise(lab.shape, rng, 1.5, 1.0) > 1.6) & liver
        img[ves] = (hu_vessel(hu, rng, 0) if phase != "native" else img[ves] - 15)
    # ---- scanner: blur (slice profile along z), noise, clip to the CT range
    sig_xy = rng.uniform(0.4, 1.2) / mm
    sig_z = rng.uniform(1.0, 5.0) / 2.355 / mm
    img = ndimage.gaussian_filter(img, (sig_z, sig_xy, sig_xy), truncate=2.5)
    img += rng.standard_normal(img.shape).astype(np.float32) * rng.uniform(5, 25)
    return np.clip(img, -1024, 3071).astype(np.float32)


def hu_vessel(hu, rng, z):
    lo, hi = hu["vessel"]
    return (lo + hi) / 2


def ours(lab):
    out = np.zeros(lab.shape, np.uint8)
    for k, v in OURS.items():
        out[lab == k] = v
    return out


def downsample2(a):
    """2 mm -> 4 mm by averaging 2x2x2 blocks (crop odd edges)."""
    s = [n // 2 * 2 for n in a.shape]
    a = a[: s[0], : s[1], : s[2]]
    return a.reshape(s[0] // 2, 2, s[1] // 2, 2, s[2] // 2, 2).mean((1, 3, 5))


def labels_down2(lab):
    s = [n // 2 * 2 for n in lab.shape]
    return lab[: s[0]:2, : s[1]:2, : s[2]:2]
