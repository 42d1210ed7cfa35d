"""Train one stage of the CT cascade on phantoms (default) or on a real dataset (--data-dir).

  (see README.md for the exact two-phase commands used for the shipped models)
  nice -n 10 /usr/bin/python3 training/ct/train.py --stage 1 --cases 160 --steps 700

Training volumes are generated once and cached as .npy at the stage spacing under
.cache/ct/<source>/stage<k>/ (phantoms are rendered directly at that spacing).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CFG, UNet3D, normalise, pad_to, resample_linear, resample_nearest  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAD_N = float(normalise(np.float32(CFG["clip"][0])))


SPACING_OVERRIDE = {}


def stage_spacing(stage):
    if stage in SPACING_OVERRIDE:
        return SPACING_OVERRIDE[stage]
    return CFG["stage1_spacing"] if stage == 1 else CFG["stage2_spacing"]


def prepare(args):
    sp = stage_spacing(args.stage)
    if args.source == "word":
        return prepare_word(args, sp)
    src = "phantom" if not args.data_dir else "data_" + os.path.basename(os.path.normpath(args.data_dir))
    d = os.path.join(args.cache, src, f"stage{args.stage}")
    os.makedirs(d, exist_ok=True)
    if args.data_dir:
        from dataset import list_cases, load_case, parse_label_map
        lm = parse_label_map(args.label_map)
        items = list_cases(args.data_dir)[: args.cases]
        names = [n for n, _, _ in items]
    else:
        from phantom import Phantom, split_seeds
        items = split_seeds("train", args.cases)
        names = [f"phantom_{s:05d}" for s in items]
    t = time.time()
    for it, name in zip(items, names):
        ip, lp = os.path.join(d, name + "_img.npy"), os.path.join(d, name + "_lab.npy")
        if os.path.exists(lp):
            continue
        if args.data_dir:
            hu, lab, spacing = load_case(it[1], it[2], lm)
            img = resample_linear(hu, spacing, (sp,) * 3)
            lab = resample_nearest(lab, spacing, (sp,) * 3, shape=img.shape)
        else:
            c = Phantom(it).render((sp,) * 3)
            img, lab = c["image"], c["label"]
        np.save(ip, np.clip(np.rint(img), -1024, 3071).astype(np.int16))
        np.save(lp, lab.astype(np.uint8))
    print(f"prepared {len(names)} cases in {d} ({time.time() - t:.0f}s)", flush=True)
    return [(np.load(os.path.join(d, n + "_img.npy")), np.load(os.path.join(d, n + "_lab.npy"))) for n in names]


def prepare_word(args, sp):
    """Synthetic CT from the WORD training cases (synth.py), `--variants` draws per case, at the stage spacing."""
    import synth
    train, _ = synth.split_cases(synth.word_cases())
    d = os.path.join(args.cache, "word", f"stage{args.stage}_{sp:g}mm")
    os.makedirs(d, exist_ok=True)
    t, out = time.time(), []
    for ci, path in enumerate(train[: args.cases]):
        name = os.path.basename(path).split(".")[0]
        lab = None
        for v in range(args.variants):
            ip, lp = os.path.join(d, f"{name}_v{v}_img.npy"), os.path.join(d, f"{name}_lab.npy")
            if not os.path.exists(ip):
                lab = synth.load_word(path, sp) if lab is None else lab
                img = synth.synthesize(lab, np.random.default_rng(1000 * ci + v), spacing=sp)
                np.save(ip, np.rint(img).astype(np.int16))
                np.save(lp, synth.ours(lab))
            out.append((np.load(ip, mmap_mode="r"), np.load(lp, mmap_mode="r")))
    print(f"prepared {len(out)} synthetic volumes from {len(train[: args.cases])} WORD cases in {d} ({time.time() - t:.0f}s)", flush=True)
    return out


def dice_ce_loss(logits, target, ce_weight=None):
    ce = F.cross_entropy(logits, target, weight=ce_weight)
    p = logits.softmax(1)
    oh = F.one_hot(target, 4).permute(0, 4, 1, 2, 3).float()
    dims = (0, 2, 3, 4)
    inter = (p * oh).sum(dims)
    den = p.sum(dims) + oh.sum(dims)
    dice = (2 * inter + 1e-5) / (den + 1e-5)
    return ce + (1 - dice[1:]).mean()


STAGE1_CROP = (32, 48, 64)  # (z, y, x) voxels at 5 mm = 160 x 240 x 320 mm


def batch_stage1(cases, rng, div, crop=STAGE1_CROP):
    """A random crop (70% containing a random organ voxel) of a whole stage-1 volume padded with clipLow.
    The net is fully convolutional; at inference it sees the whole (padded) volume."""
    img, lab = cases[rng.integers(len(cases))]
    x = pad_to(normalise(np.asarray(img, dtype=np.float32)), crop, PAD_N)
    y = pad_to(lab, crop, 0)
    shape, P = np.array(x.shape), np.array(crop)
    fg = np.argwhere(y[::2, ::2, ::2] > 0) * 2
    if rng.random() < 0.7 and len(fg):
        c = fg[int(rng.integers(len(fg)))]
        lo = np.maximum(0, c - P + 1)
        hi = np.minimum(shape - P, c)
        start = np.array([rng.integers(a, b + 1) for a, b in zip(lo, np.maximum(lo, hi))])
    else:
        start = np.array([rng.integers(0, s - p + 1) for s, p in zip(shape, P)])
    sl = tuple(slice(int(a), int(a) + p) for a, p in zip(start, P))
    return x[sl][None, None], y[sl][None].astype(np.int64)


class PatchSampler:
    def __init__(self, cases, patch, rng):
        self.cases, self.P, self.rng = cases, np.array(patch), rng
        self.fg = []
        for _, lab in cases:
            per = {}
            for k in (1, 2, 3):
                idx = np.argwhere(lab == k)
                if len(idx):
                    per[k] = idx[rng.permutation(len(idx))[:4000]]
            allfg = np.argwhere(lab > 0)
            bb = (allfg.min(0), allfg.max(0)) if len(allfg) else (np.zeros(3, int), np.array(lab.shape) - 1)
            self.fg.append((per, bb))

    def sample(self):
        rng = self.rng
        i = int(rng.integers(len(self.cases)))
        img, lab = self.cases[i]
        per, (lo, hi) = self.fg[i]
        r = rng.random()
        shape = np.array(img.shape)
        if r < 0.6 and per:
            k = list(per)[int(rng.integers(len(per)))]
            c = per[k][int(rng.integers(len(per[k])))] + rng.integers(-12, 13, size=3)
        elif r < 0.85:
            m = int(10 / CFG["stage2_spacing"]) + self.P // 2
            c = np.array([rng.integers(max(0, l - mm), min(s, h + mm + 1)) for l, h, mm, s in zip(lo, hi, m, shape)])
        else:
            c = np.array([rng.integers(0, s) for s in shape])
        start = c - self.P // 2
        start = np.clip(start, 0, np.maximum(shape - self.P, 0))
        sl = tuple(slice(s, s + p) for s, p in zip(start, self.P))
        x = pad_to(normalise(img[sl].astype(np.float32)), self.P, PAD_N)
        y = pad_to(lab[sl], self.P, 0)
        return x, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", type=int, required=True, choices=[1, 2])
    ap.add_argument("--cases", type=int, default=60)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--source", default="phantom", choices=["phantom", "word"], help="word: label-to-image synthesis from ../shared/data/ct-labels/word")
    ap.add_argument("--variants", type=int, default=6, help="synthetic draws per WORD case")
    ap.add_argument("--spacing", type=float, default=None, help="override the stage spacing (mm)")
    ap.add_argument("--crop", default=None, help="stage-1 crop z,y,x in voxels")
    ap.add_argument("--data-dir", default=None, help="real dataset in nnU-Net/MSD layout (imagesTr/labelsTr)")
    ap.add_argument("--label-map", default="1:1,2:2,3:3", help="ours:theirs[+theirs],... e.g. 1:5,2:1,3:7")
    ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "ct"))
    ap.add_argument("--init", default=None, help="start from this checkpoint (second training phase)")
    ap.add_argument("--ce-weights", default=None, help="cross-entropy class weights, e.g. 1,1,3,5")
    ap.add_argument("--out", default=None, help="checkpoint path (default .cache/ct/stage<k>.pt)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    out = args.out or os.path.join(args.cache, f"stage{args.stage}.pt")
    if args.spacing:
        SPACING_OVERRIDE[args.stage] = args.spacing
    crop = tuple(int(v) for v in args.crop.split(",")) if args.crop else STAGE1_CROP
    cases = prepare(args)
    model = UNet3D(CFG["channels"])
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu")["model"])
    cw = torch.tensor([float(v) for v in args.ce_weights.split(",")]) if args.ce_weights else None
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.05)
    sampler = PatchSampler(cases, CFG["patch"], rng) if args.stage == 2 else None
    t0, run = time.time(), None
    for step in range(1, args.steps + 1):
        if args.stage == 1:
            x, y = batch_stage1(cases, rng, CFG["size_divisor"], crop)
        else:
            xs, ys = zip(*[sampler.sample() for _ in range(args.batch)])
            x, y = np.stack(xs)[:, None], np.stack(ys).astype(np.int64)
        # light intensity augmentation (in HU units: +-15 HU shift, +-5% contrast)
        x = x * np.float32(rng.uniform(0.95, 1.05)) + np.float32(rng.uniform(-15, 15) / CFG["std"])
        logits = model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        loss = dice_ce_loss(logits, torch.from_numpy(y), cw)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run = loss.item() if run is None else 0.98 * run + 0.02 * loss.item()
        if step % 25 == 0 or step == args.steps:
            print(f"step {step}/{args.steps} loss {run:.4f} lr {sched.get_last_lr()[0]:.2e} "
                  f"{time.time() - t0:.0f}s", flush=True)
        if step % 200 == 0 or step == args.steps:
            torch.save({"model": model.state_dict(), "cfg": CFG, "step": step, "args": vars(args)}, out)
    info = {"stage": args.stage, "steps": args.steps, "cases": len(cases), "seconds": time.time() - t0,
            "final_loss": run, "args": vars(args)}
    with open(out[:-3] + "_train.json", "w") as f:
        json.dump(info, f, indent=1)
    print("done", json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
