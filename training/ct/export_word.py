"""Export the WORD-trained cascade (version 2+ of both models) to ONNX and write the cards.

  /usr/bin/python3 training/ct/export_word.py && node training/ct/verify_onnx.mjs
Reads .cache/ct/word_stage1.pt, .cache/ct/word_stage2.pt (+ *_train.json) and the metrics written by
evaluate_word.py (.cache/ct/word_metrics.json); copies the checkpoints beside the ONNX files and
writes a probe input with PyTorch's output (.cache/ct/onnx_probe_*.bin) for verify_onnx.mjs.
"""
import datetime
import json
import os
import shutil
import sys

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cascade as C  # noqa: E402
from obelisk import OBELISK_CLASSES, AllConvUNet  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.path.join(ROOT, ".cache", "ct")
VERSION = "2"
LICENCE = ("Research use only, not for clinical decisions. Trained from the WORD label maps (GPL-3.0; its authors ask "
           "for academic research use only), so this model inherits that restriction.")


def export(net, name, example, n_classes, version=VERSION):
    d = os.path.join(ROOT, "models", name, version)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(net, example, path, opset_version=17, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {2: "z", 3: "y", 4: "x"}, "logits": {2: "z", 3: "y", 4: "x"}},
                      do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    with torch.no_grad():
        ref = net(example).numpy()
    example.numpy().astype(np.float32).tofile(os.path.join(CACHE, f"onnx_probe_{name}_in.bin"))
    ref.astype(np.float32).tofile(os.path.join(CACHE, f"onnx_probe_{name}_out.bin"))
    json.dump({"model": path, "shape": list(example.shape), "classes": n_classes},
              open(os.path.join(CACHE, f"onnx_probe_{name}.json"), "w"))
    print(name, os.path.getsize(path), "bytes")
    return d


def pre(st, **extra):
    p = {"orientation": "LPS", "spacingMmXYZ": [st["spacing"]] * 3, "clipHu": list(st["clip"]),
         "normalise": {"mean": st["mean"], "std": st["std"]}, "sizeDivisor": st.get("size_divisor", 1),
         "padValueHu": st["pad_hu"]}
    p.update(extra)
    return p


ORGAN_NAMES = {1: "liver", 2: "spleen", 3: "pancreas"}


def stage2_preprocessing(s2):
    return pre(s2, patchSizeZYX=list(s2["patch"]), tileStrideZYX=list(s2["stride"]), padMode=s2["pad_mode"],
               gaussianSigmaFraction=s2["sigma_fraction"], dilationMm=s2["dilation_mm"],
               minComponentMm3=s2["min_component_mm3"], maskToCandidate=s2["mask_to_candidate"],
               **({"boxMaskOrgans": [ORGAN_NAMES[k] for k in s2["box_mask_labels"]]} if s2.get("box_mask_labels") else {}))


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage2-ckpt", default=os.path.join(CACHE, "word_stage2_500.pt"))
    ap.add_argument("--version", default=VERSION, help="registry version written (models/<name>/<version>)")
    ap.add_argument("--metrics-only", action="store_true",
                    help="rewrite only the measured figures of the existing cards of --version (the pipeline changed, "
                         "the weights did not)")
    args = ap.parse_args()
    metrics = json.load(open(os.path.join(CACHE, "word_metrics.json")))
    metrics.update(json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "selection.json"))))
    if args.metrics_only:
        for name in ("ct-organs-coarse", "ct-organs-fine"):
            path = os.path.join(ROOT, "models", name, args.version, "card.json")
            card = json.load(open(path))
            card["metrics"].update({k: metrics[k] for k in ("validation", "validationSlab", "realCT") if k in metrics})
            card["metrics"].update({k: metrics[k] for k in ("stage2Selection", "stage2Length", "postprocessingSelection",
                                                            "pancreasBoxMask") if k in metrics and name == "ct-organs-fine"})
            if name == "ct-organs-fine":
                card["preprocessing"] = stage2_preprocessing(C.STAGE2)
            with open(path, "w") as f:
                json.dump(card, f, indent=2)
                f.write("\n")
        return
    version = args.version
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    evaluate = ("/usr/bin/python3 training/ct/evaluate_word.py --make-val --cascade --real --threads 2 "
                f"--stage2-ckpt models/ct-organs-fine/{version}/model.pt")  # the committed copy of the checkpoint
    common_metrics = {k: metrics[k] for k in ("validation", "validationSlab", "realCT") if k in metrics}
    common_metrics.update({
        "command": evaluate,
        "machine": "CPU, 2 cores (dev box), PyTorch 1.13 from Debian",
        "validationNote": "6 WORD cases (word_0103, 0110, 0120, 0124, 0129, 0131) held out by case before any training, "
                          "synthesised once at 2 mm with fixed seeds; Dice on that grid. Slab: 45 slices (90 mm) around the "
                          "spleen, the field of view of the shared real CT.",
        "realCTNote": "../shared/data/ct/abdomen_ct_3mm.nii.gz vs its reference labels (from an established CT model, not "
                      "manual; liver 5, spleen 1, pancreas 7): a test, reported, never used to choose anything",
    })
    # ---- stage 2
    s2 = C.STAGE2
    tr2p = args.stage2_ckpt[:-3] + "_train.json"
    chosen = metrics.get("stage2Choice", "finetuned")
    if chosen == "finetuned":
        ck2 = torch.load(args.stage2_ckpt, map_location="cpu")
        tr2 = json.load(open(tr2p))
        net = AllConvUNet()
        net.load_state_dict(ck2["model"])
        nets = [net.eval()]
    else:
        folds = [int(f) for f in str(metrics.get("folds", "1")).split(",")]
        nets = [AllConvUNet().eval() for _ in folds]
        for n, k in zip(nets, folds):
            n.load_state_dict(torch.load(os.path.join(ROOT, "..", "shared", "data", "pretrained", "obelisk-tcia",
                                                      f"allconvunet_tcia_fold{k}.pth"), map_location="cpu"))
        tr2 = None
    m2 = C.ObeliskLPS(nets).eval()
    d2 = export(m2, "ct-organs-fine", torch.randn(1, 1, 24, 40, 36), 9, version)
    torch.save({"model": nets[0].state_dict()} if len(nets) == 1 else {"models": [n.state_dict() for n in nets]},
               os.path.join(d2, "model.pt"))
    labels2 = {str(i): n for i, n in enumerate(OBELISK_CLASSES)}
    card2 = {
        "name": "ct-organs-fine", "version": version, "task": "segmentation-fine",
        "description": ("Stage 2 of the two-stage CT cascade: tiles of "
                        f"{'x'.join(str(p) for p in s2['patch'])} voxels (z,y,x) at {s2['spacing']:g} mm isotropic on a grid anchored "
                        f"on the stage-1 organs dilated by {s2['dilation_mm']:g} mm, run only where they touch that region, "
                        "Gaussian-blended. "
                        "The OBELISK-Net paper's all-convolutional 3D U-Net pretrained on real contrast CT (TCIA "
                        "Pancreas-CT multi-organ labels, MIT licence, fold 1)"
                        + (", fine-tuned on CT synthesised from WORD label maps with BatchNorm statistics frozen. "
                           if chosen == "finetuned" else ", used as published (dropout removed). ")
                        + "9 classes; liver, spleen and pancreas are served, the rest count as background. "
                        + LICENCE),
        "inputs": [{"name": "image", "dtype": "float32", "shape": [1, 1, "z", "y", "x"]}],
        "outputs": [{"name": "logits", "dtype": "float32", "shape": [1, 9, "z", "y", "x"]}],
        "preprocessing": stage2_preprocessing(s2),
        "labels": labels2,
        "metrics": dict(common_metrics, stage2Choice=metrics.get("stage2ChoiceNote", chosen),
                        **{k: metrics[k] for k in ("stage2Selection", "stage2Length", "postprocessingSelection", "pancreasBoxMask") if k in metrics}),
        "licence": LICENCE + " Pretrained weights: OBELISK-Net (MIT, ../shared/data/pretrained/obelisk-tcia/LICENSE).",
        "training": ({
            "data": "init: OBELISK fold 1 (real contrast CT); fine-tuned on CT synthesised from WORD label maps (24 "
                    f"training cases x {tr2['args']['variants']} draws at {s2['spacing']:g} mm; 8 of its classes relabelled "
                    "from WORD ids)",
            "command": (f"nice -n 5 /usr/bin/python3 training/ct/finetune_obelisk.py --fold {tr2['args']['fold']} "
                        f"--steps {tr2['args']['steps']} --lr {tr2['args']['lr']} --variants {tr2['args']['variants']} "
                        f"--crop {tr2['args']['crop']} --out {os.path.relpath(args.stage2_ckpt, ROOT)}"),
            "epochs": tr2["steps"], "seed": tr2["args"]["seed"],
            "notes": f"Adam one-cycle, one {tr2['args']['crop']} tile (z,y,x) per step (the net is fully convolutional; "
                     "served tiles are larger), CE+Dice over 9 classes, BatchNorm in eval mode; "
                     f"{tr2['seconds'] / 60:.0f} min on 1 shared CPU thread.",
        } if tr2 else {"data": "pretrained weights used as published", "command": "none (see stage2Choice)", "epochs": 0,
                       "seed": 0, "notes": "no training here"}),
        "createdAt": now,
    }
    # ---- stage 1: the same fine-tuned net on the whole volume at the coarse spacing (chosen on validation)
    s1 = C.STAGE1
    d1 = export(m2, "ct-organs-coarse", torch.randn(1, 1, 16, 24, 32), 9, version)
    shutil.copyfile(os.path.join(d2, "model.pt"), os.path.join(d1, "model.pt"))
    card1 = {
        "name": "ct-organs-coarse", "version": version, "task": "segmentation-coarse",
        "description": ("Stage 1 of the two-stage CT cascade (Roth et al. 2018): the whole volume at "
                        f"{s1['spacing']:g} mm isotropic; its liver/spleen/pancreas, dilated, choose the stage-2 tiles. "
                        "The same network and weights as ct-organs-fine (OBELISK-Net's 3D U-Net pretrained on real CT, "
                        "fine-tuned on CT synthesised from WORD label maps), run at half the resolution on the whole "
                        "field of view: chosen on validation over a small 3D U-Net trained from scratch on the same "
                        "synthetic data, which did not find the spleen or the pancreas (see metrics.stage1Selection). "
                        + LICENCE),
        "inputs": [{"name": "image", "dtype": "float32", "shape": [1, 1, "z", "y", "x"]}],
        "outputs": [{"name": "logits", "dtype": "float32", "shape": [1, 9, "z", "y", "x"]}],
        "preprocessing": pre(s1),
        "labels": labels2,
        "metrics": dict(common_metrics, **({"stage1Selection": metrics["stage1Selection"]} if "stage1Selection" in metrics else {})),
        "licence": card2["licence"],
        "training": card2["training"],
        "createdAt": now,
    }
    for d, c in ((d1, card1), (d2, card2)):
        with open(os.path.join(d, "card.json"), "w") as f:
            json.dump(c, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
