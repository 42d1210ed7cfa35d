"""Shared pieces of the CT cascade: config, 3D U-Net, resampling and the serving pipeline (numpy).

The pipeline here is the reference for the TypeScript server:
  * resampling is origin-aligned: output voxel i sits at input index i * s_out / s_in
    (voxel 0 keeps its position), output size n_out = max(1, floor(n_in * s_in / s_out + 0.5));
    image: trilinear (separable linear, indices clamped to the edge); labels / masks: nearest with
    index floor(p + 0.5) clamped to [0, n_in - 1] (JavaScript Math.round semantics).
  * normalise: x = (clip(hu, clipLow, clipHigh) - mean) / std; padding (at the high end of each
    axis, up to a multiple of sizeDivisor / up to the patch size) uses clipLow before normalising.
"""
import math

import numpy as np
import torch
import torch.nn as nn
from scipy import ndimage

CFG = {
    "clip": (-200.0, 300.0),
    "mean": 50.0,
    "std": 125.0,
    "stage1_spacing": 5.0,
    "stage2_spacing": 2.0,
    "size_divisor": 8,
    "patch": (48, 48, 48),
    "stride": (24, 24, 24),
    "sigma_fraction": 0.125,
    "dilation_mm": 10.0,
    "min_component_mm3": 500.0,
    "channels": (8, 16, 32, 64),
}
ORGANS = {1: "liver", 2: "spleen", 3: "pancreas"}


# ----------------------------------------------------------------------------- model
class _Block(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(
            nn.Conv3d(cin, cout, 3, padding=1), nn.InstanceNorm3d(cout, affine=True), nn.LeakyReLU(0.01, inplace=True),
            nn.Conv3d(cout, cout, 3, padding=1), nn.InstanceNorm3d(cout, affine=True), nn.LeakyReLU(0.01, inplace=True))


class UNet3D(nn.Module):
    """Plain 3D U-Net: len(channels) resolution levels (len-1 poolings), 4 output logits."""

    def __init__(self, channels=(8, 16, 32, 64), n_classes=4):
        super().__init__()
        self.enc = nn.ModuleList()
        cin = 1
        for c in channels:
            self.enc.append(_Block(cin, c))
            cin = c
        self.pool = nn.MaxPool3d(2)
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for hi, lo in zip(channels[:0:-1], channels[-2::-1]):
            self.up.append(nn.ConvTranspose3d(hi, lo, 2, stride=2))
            self.dec.append(_Block(2 * lo, lo))
        self.head = nn.Conv3d(channels[0], n_classes, 1)

    def forward(self, x):
        skips = []
        for i, e in enumerate(self.enc):
            x = e(x)
            if i < len(self.enc) - 1:
                skips.append(x)
                x = self.pool(x)
        for up, dec, s in zip(self.up, self.dec, skips[::-1]):
            x = dec(torch.cat([up(x), s], 1))
        return self.head(x)


# ----------------------------------------------------------------------------- resampling
def out_shape(shape, sp_in, sp_out):
    return tuple(max(1, int(math.floor(n * a / b + 0.5))) for n, a, b in zip(shape, sp_in, sp_out))


def _positions(n_in, n_out, s_in, s_out):
    return np.arange(n_out, dtype=np.float64) * (s_out / s_in)


def resample_linear(vol, sp_in, sp_out, shape=None):
    shape = shape or out_shape(vol.shape, sp_in, sp_out)
    a = vol.astype(np.float32)
    for ax in range(3):
        p = _positions(a.shape[ax], shape[ax], sp_in[ax], sp_out[ax])
        p = np.clip(p, 0, a.shape[ax] - 1)
        i0 = np.floor(p).astype(np.int64)
        i1 = np.minimum(i0 + 1, a.shape[ax] - 1)
        w = (p - i0).astype(np.float32)
        sh = [1, 1, 1]
        sh[ax] = -1
        w = w.reshape(sh)
        a = np.take(a, i0, axis=ax) * (1 - w) + np.take(a, i1, axis=ax) * w
    return a


def resample_nearest(vol, sp_in, sp_out, shape=None):
    shape = shape or out_shape(vol.shape, sp_in, sp_out)
    a = vol
    for ax in range(3):
        p = _positions(a.shape[ax], shape[ax], sp_in[ax], sp_out[ax])
        idx = np.clip(np.floor(p + 0.5).astype(np.int64), 0, a.shape[ax] - 1)
        a = np.take(a, idx, axis=ax)
    return a


def normalise(hu):
    lo, hi = CFG["clip"]
    return ((np.clip(hu, lo, hi) - CFG["mean"]) / CFG["std"]).astype(np.float32)


def pad_to(a, shape, value):
    pads = [(0, max(0, s - n)) for n, s in zip(a.shape, shape)]
    return np.pad(a, pads, constant_values=value)


def pad_divisor(a, div, value):
    return pad_to(a, [int(math.ceil(n / div) * div) for n in a.shape], value)


# ----------------------------------------------------------------------------- post-processing
def largest_cc_per_organ(lab):
    out = np.zeros_like(lab)
    for k in ORGANS:
        cc, n = ndimage.label(lab == k)
        if n == 0:
            continue
        sizes = np.bincount(cc.ravel())[1:]
        out[cc == (np.argmax(sizes) + 1)] = k
    return out


def filter_components(lab, voxel_mm3, min_mm3):
    """Per organ keep the largest component and every component >= min_mm3."""
    out = np.zeros_like(lab)
    for k in ORGANS:
        cc, n = ndimage.label(lab == k)
        if n == 0:
            continue
        sizes = np.bincount(cc.ravel())[1:]
        keep = np.zeros(n + 1, bool)
        keep[1:] = sizes * voxel_mm3 >= min_mm3
        keep[np.argmax(sizes) + 1] = True
        out[keep[cc]] = k
    return out


def gaussian_map(patch, sigma_fraction):
    """nnU-Net importance map: Gaussian centred at patch//2, sigma = patch * fraction, max 1."""
    g = np.zeros(patch, np.float32)
    g[tuple(p // 2 for p in patch)] = 1
    g = ndimage.gaussian_filter(g, [p * sigma_fraction for p in patch], mode="constant", cval=0)
    g = g / g.max()
    g[g == 0] = g[g > 0].min()
    return g.astype(np.float32)


def tile_starts(n, p, s):
    if n <= p:
        return [0]
    st = list(range(0, n - p + 1, s))
    if st[-1] != n - p:
        st.append(n - p)
    return st


def tile_starts_covering(n, p, s, lo, hi):
    """Tile starts along an axis of length n covering voxels lo..hi-1 (the candidate region's extent):
    the tile_starts grid anchored on the region, inside the volume (twin of tileStartsCovering)."""
    if n <= p:
        return [0]
    span = max(hi - lo, p)
    origin = max(0, min(lo, n - span))
    return [a + origin for a in tile_starts(min(span, n), p, s)]


# ----------------------------------------------------------------------------- serving pipeline
def _forward(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x[None, None]))).numpy()[0]


def stage1(model, hu, spacing):
    s1 = (CFG["stage1_spacing"],) * 3
    img = resample_linear(hu, spacing, s1)
    x = pad_divisor(normalise(img), CFG["size_divisor"], normalise(np.float32(CFG["clip"][0])))
    logits = _forward(model, x)[:, :img.shape[0], :img.shape[1], :img.shape[2]]
    return largest_cc_per_organ(logits.argmax(0).astype(np.uint8)), img.shape


def candidate_mask(lab1):
    """Union of stage-1 organs dilated by dilation_mm (ball, Euclidean distance in mm) on the stage-1 grid."""
    m = lab1 > 0
    if not m.any():
        return m
    d = ndimage.distance_transform_edt(~m, sampling=(CFG["stage1_spacing"],) * 3)
    return d <= CFG["dilation_mm"]


def stage2(model, hu, spacing, cand1, shape1):
    s1, s2 = (CFG["stage1_spacing"],) * 3, (CFG["stage2_spacing"],) * 3
    img = resample_linear(hu, spacing, s2)
    shape2 = img.shape
    cand = resample_nearest(cand1, s1, s2, shape=shape2)
    P, S = CFG["patch"], CFG["stride"]
    x = pad_to(normalise(img), P, normalise(np.float32(CFG["clip"][0])))
    cand = pad_to(cand, P, False)
    g = gaussian_map(P, CFG["sigma_fraction"])
    acc = np.zeros((4,) + x.shape, np.float32)
    wsum = np.zeros(x.shape, np.float32)
    ran = np.zeros(x.shape, bool)
    n_tiles = 0
    for z in tile_starts(x.shape[0], P[0], S[0]):
        for y in tile_starts(x.shape[1], P[1], S[1]):
            for xx in tile_starts(x.shape[2], P[2], S[2]):
                sl = (slice(z, z + P[0]), slice(y, y + P[1]), slice(xx, xx + P[2]))
                if not cand[sl].any():
                    continue
                lg = _forward(model, x[sl])
                e = np.exp(lg - lg.max(0, keepdims=True))
                acc[(slice(None),) + sl] += e / e.sum(0, keepdims=True) * g
                wsum[sl] += g
                ran[sl] = True
                n_tiles += 1
    lab = np.zeros(x.shape, np.uint8)
    lab[ran] = acc[:, ran].argmax(0).astype(np.uint8)
    lab = lab[:shape2[0], :shape2[1], :shape2[2]]
    frac = float(ran[:shape2[0], :shape2[1], :shape2[2]].mean())
    lab = filter_components(lab, CFG["stage2_spacing"] ** 3, CFG["min_component_mm3"])
    return lab, frac, n_tiles


def cascade(model1, model2, hu, spacing):
    """Returns (stage-1 labels on the input grid, cascade labels on the input grid, info)."""
    s1, s2 = (CFG["stage1_spacing"],) * 3, (CFG["stage2_spacing"],) * 3
    lab1, shape1 = stage1(model1, hu, spacing)
    coarse = resample_nearest(lab1, s1, spacing, shape=hu.shape)
    cand = candidate_mask(lab1)
    lab2, frac, n_tiles = stage2(model2, hu, spacing, cand, shape1)
    fine = resample_nearest(lab2, s2, spacing, shape=hu.shape)
    return coarse, fine, {"stage2VoxelFraction": frac, "tiles": n_tiles}


def dice(pred, gt, k):
    a, b = pred == k, gt == k
    den = a.sum() + b.sum()
    return float(2 * (a & b).sum() / den) if den else 1.0
