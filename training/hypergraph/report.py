#!/usr/bin/env python3
"""Markdown tables for docs/hypergraph.md from the served Hyper-SAGNN cards (no training, no test
access beyond what the cards record).

  /usr/bin/python3 training/hypergraph/report.py            # every dataset, served (highest) version
  /usr/bin/python3 training/hypergraph/report.py --curves 5 # learning curves (every 5th epoch) too
"""
import argparse
import json
import os

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


def fmt(x):
    return "–" if x is None else f"{x:.4f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    ap.add_argument("--curves", type=int, default=0, help="also print learning curves, every Nth epoch")
    args = ap.parse_args()
    cards = {ds: served_card(args.models, ds) for ds in DATASETS}

    print("| Dataset | Model | Members | Validation AUC (out-of-fold) | Test AUC | Test AUPR | Test positives "
          "| Gate AUC (rows) | Test-selected AUC (not served) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for ds, c in cards.items():
        m = c["metrics"]
        members = c["training"].get("members", [])
        sel = m.get("testSelected", {}).get("auc")
        print(f"| {ds} | {c['name']} v{c['version']} | {max(1, len(members))} | {fmt(m['validation']['auc'])} "
              f"| {fmt(m['test']['auc'])} | {fmt(m['test']['aupr'])} | {m['test']['positives']:,} "
              f"| {fmt(m.get('gate', {}).get('auc'))} ({m.get('gate', {}).get('rows', '–')}) | {fmt(sel)} |")
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
            for ep in range(1, longest + 1):
                if ep != 1 and ep % args.curves and ep != longest:
                    continue
                rows = [r for h in hist.values() for r in h if r["epoch"] == ep]
                val = sum(r["val_auc"] for r in rows) / len(rows)
                test = [r["test_auc"] for r in rows if "test_auc" in r]
                print(f"| {ep} | {len(rows)} | {val:.4f} | {sum(test) / len(test):.4f} |" if test else
                      f"| {ep} | {len(rows)} | {val:.4f} | – |")


if __name__ == "__main__":
    main()
