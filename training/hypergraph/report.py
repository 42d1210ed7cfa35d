#!/usr/bin/env python3
"""Markdown tables for docs/hypergraph.md from the served Hyper-SAGNN cards (no training, no test
access beyond what the cards record).

  /usr/bin/python3 training/hypergraph/report.py            # every dataset, served (highest) version
  /usr/bin/python3 training/hypergraph/report.py --curves 10   # learning curves too, about 10 rows each
  /usr/bin/python3 training/hypergraph/report.py --bootstrap 2000  # 95% intervals of the test AUC

--bootstrap scores test-eval.bin.gz with the served model.pt and resamples whole positives (each
with its 5 negatives) to give a percentile interval of the test AUC.
"""
import argparse
import gzip
import json
import os
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATASETS = ["gps", "movielens", "drug", "wordnet"]


def served_dir(models, ds):
    base = os.path.join(models, f"hypersagnn-{ds}")
    versions = sorted(int(v) for v in os.listdir(base) if v.isdigit() and os.path.exists(os.path.join(base, v, "card.json")))
    return os.path.join(base, str(versions[-1]))


def served_card(models, ds):
    with open(os.path.join(served_dir(models, ds), "card.json")) as f:
        return json.load(f)


def served_history(models, ds):
    path = os.path.join(served_dir(models, ds), "history.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def bootstrap_auc(model_dir, ds, samples, seed=0):
    """Test AUC of the served model on test-eval.bin.gz and a 95% percentile interval over
    resampled positives (each keeps its 5 negatives)."""
    import torch
    from sklearn.metrics import roc_auc_score
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from model import load_serve
    pt = os.path.join(model_dir, "model.pt")
    if not os.path.exists(pt):
        pt = os.path.join(ROOT, ".cache", "hypergraph", f"{ds}-{os.path.basename(model_dir)}.pt")
    model, cfg = load_serve(pt)
    with gzip.open(os.path.join(model_dir, "test-eval.bin.gz")) as f:
        rows = np.frombuffer(f.read(), "<i4").reshape(-1, 4)
    off = np.concatenate([[0], np.cumsum(cfg["nums_type"])[:-1]])
    cand = torch.from_numpy(rows[:, :3].astype(np.int64) + off)
    with torch.no_grad():
        scores = np.concatenate([model(cand[i:i + 8192], torch.ones(len(cand[i:i + 8192]), 3))[1].numpy()
                                 for i in range(0, len(cand), 8192)])
    labels = rows[:, 3]
    groups = len(rows) // 6
    s, y = scores.reshape(groups, 6), labels.reshape(groups, 6)
    rng = np.random.default_rng(seed)
    aucs = [roc_auc_score(y[g].ravel(), s[g].ravel()) for g in (rng.integers(0, groups, groups) for _ in range(samples))]
    return roc_auc_score(labels, scores), np.percentile(aucs, 2.5), np.percentile(aucs, 97.5)


def fmt(x):
    return "–" if x is None else f"{x:.4f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    ap.add_argument("--curves", type=int, default=0, help="also print learning curves, about N rows per dataset")
    ap.add_argument("--bootstrap", type=int, default=0, help="resamples for a 95%% interval of each test AUC")
    args = ap.parse_args()
    cards = {ds: served_card(args.models, ds) for ds in DATASETS}

    print("| Dataset | Model | Members | Validation AUC (members pooled) | Test AUC | Test AUPR | Test positives "
          "| Gate AUC (rows) | Test-selected AUC (not served) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for ds, c in cards.items():
        m = c["metrics"]
        members = c["training"].get("members", [])
        sel = m.get("testSelected", {}).get("auc")
        print(f"| {ds} | {c['name']} v{c['version']} | {max(1, len(members))} | {fmt(m['validation']['auc'])} "
              f"| {fmt(m['test']['auc'])} | {fmt(m['test']['aupr'])} | {m['test']['positives']:,} "
              f"| {fmt(m.get('gate', {}).get('auc'))} ({m.get('gate', {}).get('rows', '–')}) | {fmt(sel)} |")
    if args.bootstrap:
        print()
        print(f"| Dataset | Test AUC (served model.pt) | 95% interval ({args.bootstrap} resamples of the positives) | Target (issue 13) |")
        print("|---|---|---|---|")
        for ds, c in cards.items():
            auc, lo, hi = bootstrap_auc(served_dir(args.models, ds), ds, args.bootstrap)
            target = {"gps": 0.95, "movielens": 0.92, "drug": 0.96, "wordnet": 0.90}[ds]
            print(f"| {ds} | {auc:.4f} | {lo:.4f}–{hi:.4f} | {target:.2f} |")
    leaky = {ds: c["metrics"]["testAsGiven"] for ds, c in cards.items() if "testAsGiven" in c["metrics"]}
    if leaky:
        print()
        print("| Dataset | Headline test AUC / AUPR (deduplicated, never in train) | As given, LEAKY AUC / AUPR | Rows |")
        print("|---|---|---|---|")
        for ds, g in leaky.items():
            t = cards[ds]["metrics"]["test"]
            print(f"| {ds} | {fmt(t['auc'])} / {fmt(t['aupr'])} ({t['positives']:,} positives) "
                  f"| {fmt(g['auc'])} / {fmt(g['aupr'])} ({g['positives']:,} positives) | {g['note']} |")
    print()
    print("| Dataset | Member | Best epoch (validation) | Validation AUC | Test AUC at that epoch | Best test AUC (epoch) |")
    print("|---|---|---|---|---|---|")
    for ds, c in cards.items():
        for r in c["training"].get("members", []):
            best = f"{fmt(r.get('bestTestAuc'))} ({r.get('bestTestEpoch', '–')})"
            print(f"| {ds} | {r['member']} | {r['bestEpoch']} of {r['epochsRun']} | {fmt(r['validationAuc'])} "
                  f"| {fmt(r.get('testAucAtBestValidationEpoch'))} | {best} |")
    if args.curves:
        for ds, c in cards.items():
            hist = served_history(args.models, ds)
            if not hist:
                continue
            print()
            print(f"**{ds}**: mean over the members still training at that epoch (test never used to select)")
            print()
            print("| Epoch | Members | Validation AUC | Test AUC |")
            print("|---|---|---|---|")
            longest = max(len(h) for h in hist.values())
            step = max(1, round(longest / args.curves))
            for ep in range(1, longest + 1):
                if ep != 1 and ep % step and ep != longest:
                    continue
                rows = [r for h in hist.values() for r in h if r["epoch"] == ep]
                val = sum(r["val_auc"] for r in rows) / len(rows)
                test = [r["test_auc"] for r in rows if "test_auc" in r]
                print(f"| {ep} | {len(rows)} | {val:.4f} | {sum(test) / len(test):.4f} |" if test else
                      f"| {ep} | {len(rows)} | {val:.4f} | – |")


if __name__ == "__main__":
    main()
