"""Evaluate the cascade with a numpy re-implementation of the serving pipeline (see common.py).

  /usr/bin/python3 training/ct/evaluate.py --cases 10            # held-out test phantoms (seeds 20000..)
  /usr/bin/python3 training/ct/evaluate.py --real                # the real scan in ../shared/data/ct (once)

Test phantoms use varied native grids (in-plane 0.6-1.0 mm, slices 1-5 mm); Dice is computed on
that original grid for (a) stage 1 alone (coarse labels, nearest back to the grid) and (b) the cascade.
Network forwards use the PyTorch weights that are exported unchanged to ONNX.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CFG, ORGANS, UNet3D, cascade, dice  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REAL = os.path.join(ROOT, "..", "shared", "data", "ct")


def test_spacing(seed):
    rng = np.random.default_rng(seed + 555)
    slices = [1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 3.0, 4.0, 5.0, 5.0]
    return (float(slices[(seed - 20000) % len(slices)]), float(rng.uniform(0.6, 1.0)), float(rng.uniform(0.6, 1.0)))


def test_case(seed, cache):
    from phantom import Phantom
    sp = test_spacing(seed)
    sp = (sp[0], sp[1], sp[1])  # square in-plane pixels
    f = os.path.join(cache, f"phantom_{seed:05d}.npz")
    if os.path.exists(f):
        d = np.load(f)
        return d["image"], d["label"], tuple(d["spacing"])
    c = Phantom(seed).render(sp)
    np.savez(f, image=c["image"], label=c["label"], spacing=np.array(c["spacing"]))
    return c["image"], c["label"], c["spacing"]


def load_model(path):
    ck = torch.load(path, map_location="cpu")
    m = UNet3D(CFG["channels"])
    m.load_state_dict(ck["model"])
    return m.eval()


_JOB = None


def _eval_case(i):
    args, cases = _JOB
    torch.set_num_threads(args.threads)
    m1, m2 = load_model(os.path.join(args.cache, "stage1.pt")), load_model(os.path.join(args.cache, "stage2.pt"))
    name, get = cases[i]
    t = time.time()
    hu, gt, sp = get()
    coarse, fine, info = cascade(m1, m2, hu.astype(np.float32), sp)
    r = {"case": name, "shape": list(hu.shape), "spacing": list(sp), "seconds": round(time.time() - t, 1), **info,
         "stage1": {n: dice(coarse, gt, k) for k, n in ORGANS.items()},
         "cascade": {n: dice(fine, gt, k) for k, n in ORGANS.items()}}
    print(json.dumps(r), flush=True)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=10)
    ap.add_argument("--real", action="store_true", help="evaluate on the real scan instead of phantoms")
    ap.add_argument("--render-only", action="store_true")
    ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "ct"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1, help="cases evaluated in parallel processes")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tcache = os.path.join(args.cache, "test")
    os.makedirs(tcache, exist_ok=True)
    if args.real:
        from dataset import load_case
        hu, gt, sp = load_case(os.path.join(REAL, "abdomen_ct_3mm.nii.gz"),
                               os.path.join(REAL, "abdomen_ct_3mm_reference_labels.nii.gz"),
                               {1: [5], 2: [1], 3: [7]})
        cases = [("real", lambda: (hu, gt, sp))]
    else:
        from phantom import split_seeds
        cases = [(f"phantom_{s}", (lambda s=s: test_case(s, tcache))) for s in split_seeds("test", args.cases)]
    if args.render_only:
        for name, get in cases:
            t = time.time()
            im, _, sp = get()
            print(name, im.shape, sp, f"{time.time() - t:.0f}s", flush=True)
        return
    global _JOB
    _JOB = (args, cases)
    if args.workers > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(args.workers) as pool:
            rows = pool.map(_eval_case, range(len(cases)), chunksize=1)
    else:
        rows = [_eval_case(i) for i in range(len(cases))]
    mean = lambda key: {n: round(float(np.mean([r[key][n] for r in rows])), 4) for n in ORGANS.values()}  # noqa
    if args.real:
        summary = {"realScanDice": mean("cascade"), "realScanStage1Dice": mean("stage1"),
                   "stage2VoxelFraction": round(rows[0]["stage2VoxelFraction"], 4)}
        out = os.path.join(args.cache, "metrics_real.json")
    else:
        summary = {"cases": len(rows), "stage1Dice": mean("stage1"), "cascadeDice": mean("cascade"),
                   "stage2VoxelFraction": round(float(np.mean([r["stage2VoxelFraction"] for r in rows])), 4)}
        out = os.path.join(args.cache, "metrics_phantom.json")
    with open(out, "w") as f:
        json.dump({"summary": summary, "rows": rows}, f, indent=1)
    print("SUMMARY", json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
