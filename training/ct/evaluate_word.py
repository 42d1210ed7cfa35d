"""Validation and test of the CT cascade trained on WORD-synthesised CT (see README.md).

  --make-val           synthesise the 6 validation cases (fixed seeds) at 2 mm into .cache/ct/word/val
  --stage2-config      compare stage-2 settings with the reference organs as candidate region (validation)
  --cascade            stage 1 alone vs cascade on validation (full volumes and 90 mm slabs)
  --real               the shared real CT (a test: reported, never tuned on)
Metrics go to .cache/ct/word_metrics.json (read by export_word.py for the cards).
"""
import argparse
import json
import os
import sys
import time

import nibabel as nib
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cascade as C  # noqa: E402
import synth  # noqa: E402
from common import UNet3D, dice, filter_components, largest_cc_per_organ, resample_nearest  # noqa: E402
from dataset import to_lps_zyx  # noqa: E402
from obelisk import AllConvUNet, load_obelisk  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.join(ROOT, "..", "shared", "data")
VAL = os.path.join(ROOT, ".cache", "ct", "word", "val")
METRICS = os.path.join(ROOT, ".cache", "ct", "word_metrics.json")
ORG = {1: "liver", 2: "spleen", 3: "pancreas"}


def make_val():
    os.makedirs(VAL, exist_ok=True)
    _, val = synth.split_cases(synth.word_cases())
    for i, p in enumerate(val):
        name = os.path.basename(p).split(".")[0]
        if os.path.exists(os.path.join(VAL, name + "_img.npy")):
            continue
        lab = synth.load_word(p, 2.0)
        img = synth.synthesize(lab, np.random.default_rng(50000 + i), spacing=2.0)
        np.save(os.path.join(VAL, name + "_img.npy"), np.rint(img).astype(np.int16))
        np.save(os.path.join(VAL, name + "_lab.npy"), synth.ours(lab))
        print("val", name, img.shape, flush=True)


def val_cases(slab=False):
    out = []
    for f in sorted(os.listdir(VAL)):
        if not f.endswith("_img.npy"):
            continue
        img = np.load(os.path.join(VAL, f)).astype(np.float32)
        lab = np.load(os.path.join(VAL, f.replace("_img", "_lab")))
        if slab:  # 90 mm around the spleen's centre, like the shared real CT's field of view
            zc = int(np.nonzero(lab == 2)[0].mean())
            z0 = max(0, zc - 22)
            img, lab = img[z0:z0 + 45], lab[z0:z0 + 45]
        out.append((f[:-8], img, lab))
    return out


def dices(pred, ref):
    return {n: dice(pred, ref, k) for k, n in ORG.items()}


def mean_dices(rows):
    return {n: round(float(np.mean([r[n] for r in rows])), 4) for n in ORG.values()}


def load_stage1(path):
    m = UNet3D()
    m.load_state_dict(torch.load(path, map_location="cpu")["model"])
    return m.eval()


def load_stage2(folds, checkpoint=None):
    """The fine-tuned net (checkpoint) or the pretrained fold(s) as published."""
    if checkpoint:
        net = AllConvUNet()
        net.load_state_dict(torch.load(checkpoint, map_location="cpu")["model"])
        return C.ObeliskLPS([net.eval()]).eval()
    return C.ObeliskLPS([load_obelisk(os.path.join(SHARED, "pretrained", "obelisk-tcia", f"allconvunet_tcia_fold{k}.pth")) for k in folds]).eval()


def real_ct():
    img, sp = to_lps_zyx(nib.load(os.path.join(SHARED, "ct", "abdomen_ct_3mm.nii.gz")))
    ref, _ = to_lps_zyx(nib.load(os.path.join(SHARED, "ct", "abdomen_ct_3mm_reference_labels.nii.gz")))
    ours = np.zeros(ref.shape, np.uint8)
    for theirs, o in ((5, 1), (1, 2), (7, 3)):
        ours[ref == theirs] = o
    return img.astype(np.float32), sp, ours


def compare_postprocessing(net, cases, dilation_mm, metrics):
    """Stage 2 once per case (stage 1 = the served STAGE1, no masking, no component filter), then
    each post-processing variant on that same output; Dice per organ (how selection.json was made)."""
    st1, st2 = C.STAGE1, dict(C.STAGE2, dilation_mm=dilation_mm, mask_to_candidate=False, min_component_mm3=0.0)
    out = {}
    for name, img, lab in val_cases(False)[:cases]:
        lab1, _ = C.stage1(net, img, (2.0,) * 3, st1)
        cand1 = C.candidate(lab1, st1, st2)
        raw, _ = C.stage2(net, img, (2.0,) * 3, cand1, st1, st2)
        inside = resample_nearest(cand1, (st1["spacing"],) * 3, (st2["spacing"],) * 3, shape=raw.shape)
        masked = np.where(inside, raw, 0).astype(np.uint8)
        variants = {"keepComponents500mm3": filter_components(raw, st2["spacing"] ** 3, 500.0),
                    "largestOnly": largest_cc_per_organ(raw),
                    "maskToCandidate+500mm3": filter_components(masked, st2["spacing"] ** 3, 500.0),
                    "maskToCandidate+largestOnly": largest_cc_per_organ(masked)}
        for k, v in variants.items():
            out.setdefault(k, {})[name] = [round(d, 4) for d in dices(v, lab).values()]
            print(f"dilation {dilation_mm:g}", name, k, out[k][name], flush=True)
    metrics.setdefault("postprocessing", {})[f"dilation{dilation_mm:g}"] = out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--make-val", action="store_true")
    ap.add_argument("--stage2-config", action="store_true")
    ap.add_argument("--cascade", action="store_true")
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--slab-only", action="store_true")
    ap.add_argument("--compare-postprocessing", type=float, default=None, metavar="DILATION_MM",
                    help="stage-2 post-processing variants on the first --cases validation volumes at this dilation")
    ap.add_argument("--stage1", default=None, help="the small U-Net checkpoint (train.py --source word) as stage 1; default: the stage-2 net at 4 mm")
    ap.add_argument("--folds", default="1")
    ap.add_argument("--stage2-ckpt", default=None, help="fine-tuned stage 2 (finetune_obelisk.py); default: pretrained folds")
    ap.add_argument("--patch", default="64,128,128")
    ap.add_argument("--pad-mode", default="edge", choices=["edge", "constant"])
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--spacing2", type=float, default=2.0)
    ap.add_argument("--cases", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--box-mask-labels", default=None,
                    help="our labels kept anywhere in the candidate region's bounding box (default: cascade.STAGE2's, 3; 'none': "
                         "every label masked to the region, as version 3 first was)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    patch = tuple(int(v) for v in args.patch.split(","))
    st2 = dict(C.STAGE2, patch=patch, stride=tuple(p // 2 for p in patch), spacing=args.spacing2, pad_mode=args.pad_mode)
    if args.box_mask_labels is not None:
        st2["box_mask_labels"] = () if args.box_mask_labels == "none" else tuple(int(v) for v in args.box_mask_labels.split(","))
    folds = [int(f) for f in args.folds.split(",")]
    metrics = json.load(open(METRICS)) if os.path.exists(METRICS) else {}
    if args.make_val:
        make_val()
    if args.stage2_config:
        net2 = load_stage2(folds, args.stage2_ckpt)
        key = ("stage2_finetuned" if args.stage2_ckpt else f"stage2_folds{args.folds}") + f"_p{args.patch}_s{args.spacing2:g}_{args.pad_mode}"
        for slab in ((True,) if args.slab_only else (False, True)):
            rows = []
            for name, img, lab in val_cases(slab)[args.skip: args.skip + args.cases]:
                t = time.time()
                cand1 = resample_nearest(lab > 0, (2.0,) * 3, (C.STAGE1["spacing"],) * 3)
                lab2, info = C.stage2(net2, img, (2.0,) * 3, C.candidate(cand1.astype(np.uint8), C.STAGE1, st2), C.STAGE1, st2)
                pred = resample_nearest(lab2, (st2["spacing"],) * 3, (2.0,) * 3, shape=img.shape)
                rows.append(dices(pred, lab))
                print(key, "slab" if slab else "full", name, rows[-1], info, f"{time.time() - t:.0f}s", flush=True)
            metrics.setdefault("stage2Config", {})[key + ("_slab" if slab else "_full")] = mean_dices(rows)
            print(key, "slab" if slab else "full", "MEAN", mean_dices(rows), flush=True)
    if args.compare_postprocessing:
        compare_postprocessing(load_stage2(folds, args.stage2_ckpt), args.cases, args.compare_postprocessing, metrics)
    if args.cascade or args.real:
        net2 = load_stage2(folds, args.stage2_ckpt)
        net1, st1 = (load_stage1(args.stage1), C.STAGE1_UNET) if args.stage1 else (net2, C.STAGE1)
        sets = []
        if args.cascade:
            sets += [("validation", val_cases(False)[: args.cases]), ("validationSlab", val_cases(True)[: args.cases])]
        for setname, cases in sets:
            r1, r2, fr = [], [], []
            for name, img, lab in cases:
                coarse, fine, info = C.cascade(net1, net2, img, (2.0,) * 3, st1, st2)
                r1.append(dices(coarse, lab))
                r2.append(dices(fine, lab))
                fr.append(info["stage2VoxelFraction"])
                print(setname, name, "stage1", r1[-1], "cascade", r2[-1], info, flush=True)
            metrics[setname] = {"cases": len(cases), "stage1Dice": mean_dices(r1), "cascadeDice": mean_dices(r2),
                                "stage2VoxelFraction": round(float(np.mean(fr)), 4)}
            print(setname, json.dumps(metrics[setname]), flush=True)
        if args.real:
            img, sp, ref = real_ct()
            coarse, fine, info = C.cascade(net1, net2, img, sp, st1, st2)
            metrics["realCT"] = {"stage1Dice": {k: round(v, 4) for k, v in dices(coarse, ref).items()},
                                 "cascadeDice": {k: round(v, 4) for k, v in dices(fine, ref).items()}, **info}
            print("realCT", json.dumps(metrics["realCT"]), flush=True)
    os.makedirs(os.path.dirname(METRICS), exist_ok=True)
    with open(METRICS, "w") as f:
        json.dump(metrics, f, indent=1)


if __name__ == "__main__":
    main()
