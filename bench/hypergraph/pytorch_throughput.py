#!/usr/bin/env python3
"""PyTorch throughput of a trained Hyper-SAGNN serving model (frozen node table + head).

  /usr/bin/python3 bench/hypergraph/pytorch_throughput.py --dataset gps [--model-dir DIR] [--threads 1] [--seed 0]

Loads the served version's model.pt (the highest numbered models/hypersagnn-<dataset>/<version>,
or --model-dir; .cache/hypergraph/<dataset>-<version>.pt when the weights were too large to keep
beside the model; without either, the same trained weights read from model.onnx's initializers),
builds random valid size-3 candidates (one node per type, fixed seed) and prints JSON with
candidates/second at batch 1, 64, 4096.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "training", "hypergraph"))
from model import HyperSAGNNServe, head_kwargs, load_serve, serve_from_onnx  # noqa: E402


def served_dir(ds):
    base = os.path.join(ROOT, "models", f"hypersagnn-{ds}")
    versions = [int(v) for v in os.listdir(base) if v.isdigit() and os.path.exists(os.path.join(base, v, "model.onnx"))]
    return os.path.join(base, str(max(versions)))


def weights_path(ds, model_dir):
    p = os.path.join(model_dir, "model.pt")
    if os.path.exists(p):
        return p
    version = os.path.basename(os.path.normpath(model_dir))
    return os.path.join(ROOT, ".cache", "hypergraph", f"{ds}-{version}.pt" if version != "1" else f"{ds}.pt")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True, choices=["gps", "movielens", "drug", "wordnet"])
    ap.add_argument("--model-dir", default=None, help="model folder (default: the served version)")
    ap.add_argument("--forward", default="served", choices=["served", "textbook"],
                    help="served: the code exported to ONNX; textbook: the same function as version 1 wrote it")
    ap.add_argument("--weights", default="onnx", choices=["onnx", "random"],
                    help="without a model.pt: the trained weights held by model.onnx, or random weights")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batches", default="1,64,4096")
    ap.add_argument("--min-seconds", type=float, default=2.0, help="time each batch size at least this long")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    model_dir = args.model_dir or served_dir(args.dataset)
    path = weights_path(args.dataset, model_dir)
    if os.path.exists(path):
        model, cfg = load_serve(path)
    elif args.weights == "onnx":
        # Weights too large to commit and not trained here (wordnet): the same trained weights,
        # read from the initializers of the served model.onnx (they keep the state_dict names).
        with open(os.path.join(model_dir, "card.json")) as f:
            cfg = json.load(f)["training"]["architecture"]
        model = serve_from_onnx(os.path.join(model_dir, "model.onnx"), cfg)
        path = os.path.relpath(os.path.join(model_dir, "model.onnx"), ROOT) + " (its initializers)"
    else:
        # The card's architecture with random weights (what this script timed before it could
        # read the weights from model.onnx; kept for comparison).
        with open(os.path.join(model_dir, "card.json")) as f:
            cfg = json.load(f)["training"]["architecture"]
        model = HyperSAGNNServe(cfg["num_nodes"], cfg["dim"], cfg["hidden"], cfg["heads"], cfg.get("members", 1),
                                bool(cfg.get("table_fp16", False)), **head_kwargs(cfg)).eval()
        with torch.no_grad():
            model.table.uniform_(-1.0, 1.0)
        path = os.path.relpath(os.path.join(model_dir, "card.json"), ROOT) + " (architecture only, random weights)"

    model.textbook = args.forward == "textbook"

    nums = np.array(cfg["nums_type"], np.int64)
    off = np.concatenate([[0], np.cumsum(nums)[:-1]])
    sizes = [int(b) for b in args.batches.split(",")]
    rng = np.random.default_rng(args.seed)
    n = max(sizes)
    cand = np.stack([rng.integers(0, nums[i], n) for i in range(3)], 1) + off  # global ids
    idx_all = torch.from_numpy(cand)
    mask_all = torch.ones(n, 3)

    results = []
    with torch.inference_mode():
        for b in sizes:
            idx, mask = idx_all[:b].contiguous(), mask_all[:b].contiguous()
            for _ in range(3):
                model(idx, mask)  # warm-up
            iters, t0 = 0, time.perf_counter()
            while True:
                model(idx, mask)
                iters += 1
                el = time.perf_counter() - t0
                if el >= args.min_seconds and iters >= 5:
                    break
            results.append({"batch": b, "iterations": iters, "seconds": round(el, 4),
                            "candidatesPerSecond": round(b * iters / el, 1),
                            "msPerBatch": round(1000 * el / iters, 4)})
    print(json.dumps({"dataset": args.dataset, "weights": os.path.relpath(path, ROOT) if os.path.exists(path) else path, "threads": args.threads,
                      "seed": args.seed, "forward": args.forward, "candidateSize": 3, "torch": torch.__version__, "results": results},
                     indent=2))


if __name__ == "__main__":
    main()
