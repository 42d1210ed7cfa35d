"""Stage 2: fine-tune the pretrained OBELISK net (real contrast CT, MIT) on WORD-synthesised CT.

  nice -n 5 /usr/bin/python3 training/ct/finetune_obelisk.py --fold 1 --steps 300 --out .cache/ct/word_stage2.pt

Keeps all 9 of its classes (WORD labels every one of them), trains on tiles of the served size
at the served spacing (cascade.STAGE2) with BatchNorm statistics frozen at their real-CT values
(BN layers stay in eval mode) and a small learning rate, so the real-CT features are adapted
rather than relearned.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cascade as C  # noqa: E402
import synth  # noqa: E402
from obelisk import load_obelisk  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.join(ROOT, "..", "shared", "data")
# WORD id -> OBELISK class (1 spleen, 2 pancreas, 3 left kidney, 4 gallbladder, 5 oesophagus, 6 liver, 7 stomach, 8 duodenum)
WORD_TO_OBELISK = {synth.SPLEEN: 1, synth.PANC: 2, synth.KID_L: 3, synth.GALL: 4, synth.OESO: 5, synth.LIVER: 6, synth.STOMACH: 7, synth.DUOD: 8}


def to_obelisk(lab):
    lut = np.zeros(256, np.uint8)
    for w, o in WORD_TO_OBELISK.items():
        lut[w] = o
    return lut[lab]


def prepare(variants, spacing, cache):
    train, _ = synth.split_cases(synth.word_cases())
    d = os.path.join(cache, "word", f"stage2_{spacing:g}mm")
    os.makedirs(d, exist_ok=True)
    out, t = [], time.time()
    for ci, path in enumerate(train):
        name = os.path.basename(path).split(".")[0]
        lab = None
        for v in range(variants):
            ip, lp = os.path.join(d, f"{name}_v{v}_img.npy"), os.path.join(d, f"{name}_lab.npy")
            if not os.path.exists(ip):
                lab = synth.load_word(path, spacing) if lab is None else lab
                img = synth.synthesize(lab, np.random.default_rng(7000 + 100 * ci + v), spacing=spacing)
                np.save(ip, np.rint(img).astype(np.int16))
                np.save(lp, to_obelisk(lab))
            out.append((np.load(ip, mmap_mode="r"), np.load(lp, mmap_mode="r")))
    print(f"prepared {len(out)} volumes in {d} ({time.time() - t:.0f}s)", flush=True)
    return out


def sample(cases, rng, P, organ_idx):
    i = int(rng.integers(len(cases)))
    img, lab = cases[i]
    shape = np.array(img.shape)
    if rng.random() < 0.8:
        k = [1, 2, 6, 1, 2][int(rng.integers(5))]  # spleen and pancreas drawn more often than liver
        idx = organ_idx[i].get(k)
        c = idx[int(rng.integers(len(idx)))] if idx is not None else shape // 2
        c = c + rng.integers(-20, 21, size=3)
    else:
        c = np.array([rng.integers(0, s) for s in shape])
    start = np.clip(c - np.array(P) // 2, 0, np.maximum(shape - P, 0))
    sl = tuple(slice(int(s), int(s) + p) for s, p in zip(start, P))
    x, y = np.asarray(img[sl], np.float32), np.asarray(lab[sl], np.int64)
    if rng.random() < 0.3:  # a truncated field of view along z, edge-padded as served
        keep = int(rng.integers(P[0] // 3, P[0]))
        x, y = x[:keep], y[:keep]
    pads = [(0, max(0, p - n)) for n, p in zip(x.shape, P)]
    x = np.pad(x, pads, mode="edge")
    y = np.pad(y, pads, mode="edge")
    x = x * np.float32(rng.uniform(0.95, 1.05)) + np.float32(rng.uniform(-15, 15))
    return x, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fold", type=int, default=1)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--variants", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--crop", default="32,96,96", help="training tile z,y,x (smaller than the served tile: the net is fully convolutional)")
    ap.add_argument("--spacing", type=float, default=None, help="default: the served stage-2 spacing")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "ct"))
    ap.add_argument("--out", default=os.path.join(ROOT, ".cache", "ct", "word_stage2.pt"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    st2 = C.STAGE2
    cases = prepare(args.variants, args.spacing or st2["spacing"], args.cache)
    organ_idx = []
    for _, lab in cases:
        sub = np.asarray(lab[::4, ::4, ::4])
        organ_idx.append({k: np.argwhere(sub == k) * 4 for k in (1, 2, 6) if (sub == k).any()})
    net = load_obelisk(os.path.join(SHARED, "pretrained", "obelisk-tcia", f"allconvunet_tcia_fold{args.fold}.pth"))
    net.eval()  # BatchNorm keeps its real-CT running statistics
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    t0, run = time.time(), None
    P = tuple(int(v) for v in args.crop.split(","))
    for step in range(1, args.steps + 1):
        x, y = sample(cases, rng, P, organ_idx)
        logits = net.forward_lps(torch.from_numpy(x)[None, None])
        target = torch.from_numpy(y)[None]
        ce = F.cross_entropy(logits, target)
        p = logits.softmax(1)
        oh = F.one_hot(target, 9).permute(0, 4, 1, 2, 3).float()
        inter, den = (p * oh).sum((0, 2, 3, 4)), (p + oh).sum((0, 2, 3, 4))
        present = oh.sum((0, 2, 3, 4)) > 0
        dice = ((2 * inter + 1e-5) / (den + 1e-5))[1:][present[1:]]
        loss = ce + (1 - dice).mean() if len(dice) else ce
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run = loss.item() if run is None else 0.95 * run + 0.05 * loss.item()
        if step % 10 == 0 or step == args.steps:
            print(f"step {step}/{args.steps} loss {run:.4f} {time.time() - t0:.0f}s", flush=True)
        if step % 25 == 0 or step == args.steps:
            torch.save({"model": net.state_dict(), "step": step, "args": vars(args)}, args.out)
    info = {"steps": args.steps, "volumes": len(cases), "seconds": time.time() - t0, "final_loss": run, "args": vars(args)}
    with open(args.out[:-3] + "_train.json", "w") as f:
        json.dump(info, f, indent=1)
    print("done", json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
