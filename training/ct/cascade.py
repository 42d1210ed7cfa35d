"""Reference implementation (numpy/PyTorch) of the served cascade with per-stage configs.

Mirrors libs/segmentation (TypeScript): the same resampling convention (common.py), the same tile
grid and Gaussian blending, and each stage's model classes mapped to our organs after argmax
(classes that are not served organs are background). Stage 2 may be a model with more classes
than ours (the pretrained OBELISK net: 9 classes).
"""
import numpy as np
import torch
from scipy import ndimage

from common import filter_components, gaussian_map, largest_cc_per_organ, pad_to, resample_linear, resample_nearest, tile_starts, tile_starts_covering

# Stage 1 = the fine-tuned OBELISK net on the whole volume at 4 mm (chosen on validation over the
# small U-Net trained from scratch, STAGE1_UNET: see README.md).
STAGE1 = {"spacing": 4.0, "clip": (-1024.0, 3071.0), "mean": 0.0, "std": 1.0, "size_divisor": 1, "pad_hu": -1000.0,
          "classes": {6: 1, 1: 2, 2: 3}, "n_classes": 9}
STAGE1_UNET = {"spacing": 4.0, "clip": (-200.0, 300.0), "mean": 50.0, "std": 125.0, "size_divisor": 8, "pad_hu": -200.0,
               "classes": {1: 1, 2: 2, 3: 3}, "n_classes": 4}
# OBELISK classes: 1 spleen, 2 pancreas, 6 liver -> ours 2, 3, 1
STAGE2 = {"spacing": 2.0, "clip": (-1024.0, 3071.0), "mean": 0.0, "std": 1.0, "pad_hu": -1000.0, "pad_mode": "edge", "patch": (64, 128, 128),
          "stride": (32, 64, 64), "sigma_fraction": 0.125, "classes": {6: 1, 1: 2, 2: 3}, "n_classes": 9,
          "dilation_mm": 30.0, "min_component_mm3": None, "mask_to_candidate": True,
          # the pancreas is kept anywhere in the candidate region's bounding box: stage 1 rarely finds it,
          # so the region is mostly liver and spleen dilated (chosen on validation, selection.json)
          "box_mask_labels": (3,)}


def norm(hu, st):
    lo, hi = st["clip"]
    return ((np.clip(hu, lo, hi) - st["mean"]) / st["std"]).astype(np.float32)


def map_classes(argmax, st):
    lut = np.zeros(st["n_classes"], np.uint8)
    for c, o in st["classes"].items():
        lut[c] = o
    return lut[argmax]


def forward(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x[None, None], dtype=np.float32))).numpy()[0]


def stage1(model, hu, spacing, st=STAGE1):
    s1 = (st["spacing"],) * 3
    img = resample_linear(hu, spacing, s1)
    div = st["size_divisor"]
    padded = tuple(-(-n // div) * div for n in img.shape)
    x = pad_to(norm(img, st), padded, float(norm(np.float32(st["pad_hu"]), st)))
    logits = forward(model, x)[:, : img.shape[0], : img.shape[1], : img.shape[2]]
    return largest_cc_per_organ(map_classes(logits.argmax(0), st)), img.shape


def candidate(lab1, st1=STAGE1, st2=STAGE2):
    m = lab1 > 0
    if not m.any():
        return m
    return ndimage.distance_transform_edt(~m, sampling=(st1["spacing"],) * 3) <= st2["dilation_mm"]


def stage2(model, hu, spacing, cand1, st1=STAGE1, st2=STAGE2, progress=None):
    s1, s2 = (st1["spacing"],) * 3, (st2["spacing"],) * 3
    img = resample_linear(hu, spacing, s2)
    shape2 = img.shape
    cand = resample_nearest(cand1, s1, s2, shape=shape2) if cand1 is not None else np.ones(shape2, bool)
    P, S = st2["patch"], st2["stride"]
    if st2.get("pad_mode") == "edge":  # a truncated field of view continues as its border slices
        x = np.pad(norm(img, st2), [(0, max(0, p - n)) for n, p in zip(img.shape, P)], mode="edge")
    else:
        x = pad_to(norm(img, st2), P, float(norm(np.float32(st2["pad_hu"]), st2)))
    cand = pad_to(cand, P, False)
    g = gaussian_map(P, st2["sigma_fraction"])
    C = st2["n_classes"]
    acc = np.zeros((C,) + x.shape, np.float32)
    ran = np.zeros(x.shape, bool)
    starts = [tile_starts(x.shape[a], P[a], S[a]) for a in range(3)]
    tiles = [(z, y, xx) for z in starts[0] for y in starts[1] for xx in starts[2]]
    if cand1 is not None:
        # Anchored on the candidate region's extent, not the volume's corner (as tileStartsCovering).
        inside = cand[: shape2[0], : shape2[1], : shape2[2]]
        ext = [np.flatnonzero(inside.any(axis=tuple(b for b in range(3) if b != a))) for a in range(3)]
        starts = [tile_starts_covering(x.shape[a], P[a], S[a], int(e[0]), int(e[-1]) + 1) if len(e) else [] for a, e in enumerate(ext)]
    grid = [(z, y, xx) for z in starts[0] for y in starts[1] for xx in starts[2]]
    run = [t for t in grid if cand[tuple(slice(a, a + p) for a, p in zip(t, P))].any()]
    for i, t in enumerate(run):
        sl = tuple(slice(a, a + p) for a, p in zip(t, P))
        lg = forward(model, x[sl])
        e = np.exp(lg - lg.max(0, keepdims=True))
        acc[(slice(None),) + sl] += e / e.sum(0, keepdims=True) * g
        ran[sl] = True
        if progress:
            progress(i + 1, len(run))
    lab = np.zeros(x.shape, np.uint8)
    lab[ran] = map_classes(acc[:, ran].argmax(0), st2)
    lab = lab[: shape2[0], : shape2[1], : shape2[2]]
    frac = float(ran[: shape2[0], : shape2[1], : shape2[2]].mean())
    if st2.get("mask_to_candidate"):  # stage 2 segments inside the dilated stage-1 region only
        inside = cand[: shape2[0], : shape2[1], : shape2[2]]
        boxed = st2.get("box_mask_labels", ())
        if boxed and inside.any():
            # These organs are kept anywhere in the region's bounding box (stage 1 may miss them).
            box = np.zeros_like(inside)
            box[tuple(slice(int(e[0]), int(e[-1]) + 1) for e in
                      (np.flatnonzero(inside.any(axis=tuple(b for b in range(3) if b != a))) for a in range(3)))] = True
            lab[~inside & ~(np.isin(lab, boxed) & box)] = 0
        else:
            lab[~inside] = 0
    if st2["min_component_mm3"] is None:
        lab = largest_cc_per_organ(lab)
    else:
        lab = filter_components(lab, st2["spacing"] ** 3, st2["min_component_mm3"])
    return lab, {"stage2VoxelFraction": frac, "tiles": len(run), "tilesTotal": len(tiles)}


def cascade(model1, model2, hu, spacing, st1=STAGE1, st2=STAGE2):
    """(stage-1 labels, cascade labels) on the input grid, and stage-2 info."""
    lab1, _ = stage1(model1, hu, spacing, st1)
    coarse = resample_nearest(lab1, (st1["spacing"],) * 3, spacing, shape=hu.shape)
    lab2, info = stage2(model2, hu, spacing, candidate(lab1, st1, st2), st1, st2)
    fine = resample_nearest(lab2, (st2["spacing"],) * 3, spacing, shape=hu.shape)
    return coarse, fine, info


class ObeliskLPS(torch.nn.Module):
    """The pretrained net (or an ensemble of folds, softmax-averaged as log-probabilities) on LPS (z, y, x) input."""

    def __init__(self, nets):
        super().__init__()
        self.nets = torch.nn.ModuleList(nets)

    def forward(self, x):
        if len(self.nets) == 1:
            return self.nets[0].forward_lps(x)
        p = sum(torch.softmax(n.forward_lps(x), 1) for n in self.nets) / len(self.nets)
        return torch.log(p.clamp_min(1e-8))
