#!/usr/bin/env python3
"""Re-export trained Hyper-SAGNN models to ONNX from their weights, with the current model.py.

  /usr/bin/python3 training/hypergraph/export.py models/hypersagnn-gps/2 [models/hypersagnn-drug/2 ...]

For when the serving graph is rewritten but the trained weights stay: loads the folder's model.pt
(or .cache/hypergraph/<dataset>-<version>.pt; without either, the weights held by the current
model.onnx, whose initializers keep the state_dict names), scores its test-eval.bin.gz and requires
the card's test and gate AUC/AUPR (which train.py computed) to within 1e-4, checks padding, then
writes model.onnx (torch's graph rewritten by fuse.py), checks it with verify_onnx.cjs against
torch's graph (scores within 1e-5, AUC/AUPR equal to 4 decimals) and records the command in the
card (training.exportCommand). Subnormal float32 weights are set to 0 first (and the weights file
rewritten), see model.flush_denormals.
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from model import check_padding, export_onnx, flush_denormals, load_serve, serve_from_onnx  # noqa: E402


def weights(folder, dataset):
    path = os.path.join(folder, "model.pt")
    if os.path.exists(path):
        return path
    return os.path.join(ROOT, ".cache", "hypergraph", f"{dataset}-{os.path.basename(os.path.normpath(folder))}.pt")


@torch.no_grad()
def main():
    torch.set_num_threads(1)
    for folder in sys.argv[1:]:
        with open(os.path.join(folder, "card.json")) as f:
            card = json.load(f)
        dataset = card["name"].removeprefix("hypersagnn-")
        path = weights(folder, dataset)
        if os.path.exists(path):
            serve, cfg = load_serve(path)
        else:  # weights not kept beside the model (wordnet): the ones the served graph holds
            cfg = card["training"]["architecture"]
            serve, path = serve_from_onnx(os.path.join(folder, "model.onnx"), cfg), None
        flushed = flush_denormals(serve)
        if flushed and path:  # the weights file keeps what is served
            state = torch.load(path, map_location="cpu")
            state["state_dict"] = serve.state_dict()
            torch.save(state, path)
        off = np.concatenate([[0], np.cumsum(cfg["nums_type"])[:-1]])
        with gzip.open(os.path.join(folder, "test-eval.bin.gz")) as f:
            rows = np.frombuffer(f.read(), "<i4").reshape(-1, 4)
        cand = torch.from_numpy(rows[:, :3].astype(np.int64) + off)
        scores = np.concatenate([serve(cand[i:i + 8192], torch.ones(len(cand[i:i + 8192]), 3))[1].numpy()
                                 for i in range(0, len(cand), 8192)])
        labels = rows[:, 3]
        gate = card["metrics"]["gate"]["rows"]
        for name, n in (("test", len(rows)), ("gate", gate)):
            auc = roc_auc_score(labels[:n], scores[:n])
            aupr = average_precision_score(labels[:n], scores[:n])
            stated = card["metrics"][name]
            assert abs(auc - stated["auc"]) <= 1e-4 and abs(aupr - stated["aupr"]) <= 1e-4, \
                f"{folder}: {name} AUC/AUPR {auc:.5f}/{aupr:.5f}, card {stated['auc']}/{stated['aupr']}"
        pad = check_padding(serve, cand[:1024])
        with tempfile.TemporaryDirectory() as tmp:
            unfused = os.path.join(tmp, "torch-graph.onnx")
            ops = export_onnx(serve, cand[:4], os.path.join(folder, "model.onnx"), unfused_path=unfused)
            check = subprocess.run(["node", os.path.join(HERE, "verify_onnx.cjs"), folder, "--against", unfused],
                                   cwd=ROOT, capture_output=True, text=True)
            assert check.returncode == 0, f"{folder}: rewritten graph differs from torch's: {check.stdout}{check.stderr}"
            verified = json.loads(check.stdout.strip().splitlines()[-1])
        card["training"]["exportCommand"] = ("/usr/bin/python3 training/hypergraph/export.py " +
                                             os.path.relpath(os.path.abspath(folder), ROOT))
        with open(os.path.join(folder, "card.json"), "w") as f:
            json.dump(card, f, indent=2)
            f.write("\n")
        print(json.dumps({"model": folder, "testAuc": round(float(roc_auc_score(labels, scores)), 5),
                          "cardAuc": card["metrics"]["test"]["auc"], "paddingMaxDiff": pad, "subnormalWeightsFlushed": flushed,
                          "onnxBytes": os.path.getsize(os.path.join(folder, "model.onnx")), "ops": ops,
                          "maxDiffToTorchGraph": verified["maxDiffAgainst"], "onnxFigures": verified["figures"]}))


if __name__ == "__main__":
    main()
