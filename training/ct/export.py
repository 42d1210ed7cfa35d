"""Export both stages to ONNX (opset 17, float32) and write the model cards.

  /usr/bin/python3 training/ct/export.py
Reads .cache/ct/stage{1,2}.pt, .cache/ct/stage{1,2}_train.json and the metrics written by evaluate.py.
"""
import datetime
import json
import os
import sys

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CFG, UNet3D  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache", "ct")
NAMES = {1: "ct-organs-coarse", 2: "ct-organs-fine"}


def run_graph(model, image):
    """Tiny interpreter for the ops this graph uses (Conv, InstanceNormalization, LeakyRelu, MaxPool,
    ConvTranspose, Concat), following the ONNX operator definitions."""
    import torch.nn.functional as F
    from onnx import numpy_helper
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    env[model.graph.input[0].name] = torch.from_numpy(image)
    for n in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        ins = [env[i] for i in n.input if i]
        if n.op_type == "Conv":
            p = a.get("pads", [0] * 6)
            assert p[:3] == p[3:]
            y = F.conv3d(ins[0], ins[1], ins[2] if len(ins) > 2 else None, stride=a.get("strides", 1),
                         padding=p[:3], dilation=a.get("dilations", 1), groups=a.get("group", 1))
        elif n.op_type == "ConvTranspose":
            y = F.conv_transpose3d(ins[0], ins[1], ins[2] if len(ins) > 2 else None, stride=a.get("strides", 1))
        elif n.op_type == "InstanceNormalization":
            xx = ins[0]
            mu = xx.mean(dim=(2, 3, 4), keepdim=True)
            var = ((xx - mu) ** 2).mean(dim=(2, 3, 4), keepdim=True)
            y = (xx - mu) / torch.sqrt(var + a["epsilon"]) * ins[1].view(1, -1, 1, 1, 1) + ins[2].view(1, -1, 1, 1, 1)
        elif n.op_type == "LeakyRelu":
            y = torch.where(ins[0] >= 0, ins[0], ins[0] * a["alpha"])
        elif n.op_type == "MaxPool":
            y = F.max_pool3d(ins[0], a["kernel_shape"], a["strides"])
        elif n.op_type == "Concat":
            y = torch.cat(ins, a["axis"])
        else:
            raise NotImplementedError(n.op_type)
        env[n.output[0]] = y
    return env[model.graph.output[0].name].numpy()


def export(stage):
    ck = torch.load(os.path.join(CACHE, f"stage{stage}.pt"), map_location="cpu")
    m = UNet3D(CFG["channels"])
    m.load_state_dict(ck["model"])
    m.eval()
    d = os.path.join(ROOT, "models", NAMES[stage], "1")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    x = torch.randn(1, 1, 32, 48, 40)
    torch.onnx.export(m, x, path, opset_version=17, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {2: "z", 3: "y", 4: "x"}, "logits": {2: "z", 3: "y", 4: "x"}},
                      do_constant_folding=True)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    io = [(v.name, [dd.dim_param or dd.dim_value for dd in v.type.tensor_type.shape.dim], v.type.tensor_type.elem_type)
          for v in list(model.graph.input) + list(model.graph.output)]
    print(NAMES[stage], io, os.path.getsize(path), "bytes")
    # numerical check: execute the ONNX graph node by node (independent of the torch module) and compare
    with torch.no_grad():
        ref = m(x).numpy()
    out = run_graph(model, x.numpy())
    err = float(np.abs(out - ref).max())
    print("  max |onnx graph - torch| =", err)
    assert err < 1e-3, err
    return ck


def card(stage, ck, metrics):
    tr = json.load(open(os.path.join(CACHE, f"stage{stage}_train.json")))
    sp = CFG["stage1_spacing"] if stage == 1 else CFG["stage2_spacing"]
    pre = {"orientation": "LPS", "spacingMmXYZ": [sp, sp, sp], "clipHu": list(CFG["clip"]),
           "normalise": {"mean": CFG["mean"], "std": CFG["std"]}, "sizeDivisor": CFG["size_divisor"],
           "padValueHu": CFG["clip"][0]}
    if stage == 2:
        pre.update({"patchSizeZYX": list(CFG["patch"]), "tileStrideZYX": list(CFG["stride"]),
                    "gaussianSigmaFraction": CFG["sigma_fraction"], "dilationMm": CFG["dilation_mm"],
                    "minComponentMm3": CFG["min_component_mm3"]})
    a = tr["args"]
    base = os.path.join(CACHE, f"stage{stage}_base_train.json")
    b = json.load(open(base))["args"] if os.path.exists(base) else None

    def train_cmd(x, extra=""):
        return (f"nice -n 10 /usr/bin/python3 training/ct/train.py --stage {stage} --cases {x['cases']} "
                f"--steps {x['steps']} " + (f"--batch {x['batch']} " if stage == 2 else "")
                + f"--lr {x['lr']} --seed {x['seed']}" + extra)
    if b:  # two phases: base run, then a fine-tune with class-weighted CE (written to stage<k>.pt)
        cmd = (train_cmd(b, f" --out .cache/ct/stage{stage}_base.pt") + " && "
               + train_cmd(a, f" --init .cache/ct/stage{stage}_base.pt --ce-weights {a['ce_weights']}"))
        total_steps = b["steps"] + a["steps"]
        bt = json.load(open(base))
        minutes = (bt["seconds"] + tr["seconds"]) / 60
        phase = (f"Two phases: {b['steps']} iterations (one-cycle, max lr {b['lr']}), then {a['steps']} iterations "
                 f"from that checkpoint (one-cycle, max lr {a['lr']}, CE class weights {a['ce_weights']}) because the "
                 "first phase left spleen/pancreas under-trained at stage 1 (pancreas at stage 2): its training loss "
                 "plateaued near 2/3, and a partial run of evaluate.py on 6 test phantoms also showed stage-1 spleen and "
                 "pancreas Dice 0; the second phase was a single retry, no hyper-parameter search; ")
    else:
        cmd, total_steps, minutes, phase = train_cmd(a), tr["steps"], tr["seconds"] / 60, ""
    desc = ("Stage 1 of a two-stage cascaded 3D U-Net (Roth et al. 2018) for abdominal CT: whole volume resampled "
            f"to {sp:g} mm isotropic, coarse liver/spleen/pancreas segmentation that defines the candidate region for "
            "stage 2." if stage == 1 else
            "Stage 2 of a two-stage cascaded 3D U-Net (Roth et al. 2018) for abdominal CT: "
            f"{CFG['patch'][0]}^3-voxel tiles at {sp:g} mm isotropic, run only where they touch the stage-1 organ "
            "region dilated by dilationMm; Gaussian-weighted softmax accumulation, voxels outside run tiles are "
            "background.")
    desc += (" Trained on synthetic phantoms only (training/ct/phantom.py); 3D U-Net, 4 resolution levels, channels "
             f"{'-'.join(str(c) for c in CFG['channels'])}, InstanceNorm, Dice+CE loss.")
    notes = (f"{tr['cases']} training phantoms (seeds 0..{tr['cases'] - 1}) rendered at {sp:g} mm; "
             + ("random 32x48x64-voxel crops (160x240x320 mm; 70% containing an organ voxel), batch 1 "
                "(fully convolutional: inference runs on the whole padded volume); " if stage == 1 else
                f"{CFG['patch'][0]}^3 patches, batch {a['batch']}: 60% centred on a random organ voxel (classes balanced), "
                "25% inside the organ bounding box + margin, 15% anywhere; ")
             + phase + f"AdamW, {total_steps} iterations in total, {minutes:.0f} min on 1 thread "
             "(CPU shared with other jobs). Intensity augmentation +-15 HU, +-5% contrast. "
             "'epochs' = optimiser iterations (no fixed epoch structure). Works with --data-dir DATA --label-map for a "
             "real nnU-Net/MSD-layout dataset.")
    c = {
        "name": NAMES[stage], "version": "1", "task": "segmentation-coarse" if stage == 1 else "segmentation-fine",
        "description": desc,
        "inputs": [{"name": "image", "dtype": "float32", "shape": [1, 1, "z", "y", "x"]}],
        "outputs": [{"name": "logits", "dtype": "float32", "shape": [1, 4, "z", "y", "x"]}],
        "preprocessing": pre,
        "labels": {"1": "liver", "2": "spleen", "3": "pancreas"},
        "metrics": metrics,
        "training": {"data": "synthetic abdominal CT phantoms (training/ct/phantom.py, train seeds "
                             f"0..{tr['cases'] - 1}; validation 10000+, test 20000+)",
                     "command": cmd, "epochs": total_steps, "seed": b["seed"] if b else a["seed"], "notes": notes},
        "createdAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with open(os.path.join(ROOT, "models", NAMES[stage], "1", "card.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")


def main():
    metrics = {}
    mp, mr = os.path.join(CACHE, "metrics_phantom.json"), os.path.join(CACHE, "metrics_real.json")
    cmd = "/usr/bin/python3 training/ct/evaluate.py --cases 10 --workers 2"
    if os.path.exists(mp):
        metrics["phantomTest"] = json.load(open(mp))["summary"]
    if os.path.exists(mr):
        s = json.load(open(mr))["summary"]
        metrics["realScanDice"] = s["realScanDice"]
        metrics["realScanStage1Dice"] = s["realScanStage1Dice"]
        metrics["realScanNote"] = ("abdomen_ct_3mm.nii.gz vs its reference labels (from an established CT model, not "
                                   "manual): computed once after training, never used for training or tuning")
        cmd += " && /usr/bin/python3 training/ct/evaluate.py --real"
    metrics["command"] = cmd
    metrics["machine"] = "CPU, 2 cores (dev box)"
    for stage in (1, 2):
        ck = export(stage)
        card(stage, ck, metrics)


if __name__ == "__main__":
    main()
