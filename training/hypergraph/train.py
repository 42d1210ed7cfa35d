#!/usr/bin/env python3
"""Train one Hyper-SAGNN ("encoder" variant) per dataset and export it to ONNX.

Usage (from the repository root):
  nice -n 10 /usr/bin/python3 training/hypergraph/train.py --dataset GPS --epochs 60

Writes models/hypersagnn-<dataset>/1/{model.onnx,card.json,test-eval.bin.gz,model.pt}.
"""
import argparse
import datetime
import gzip
import json
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import HyperSAGNNServe, HyperSAGNNTrain  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.abspath(os.path.join(ROOT, "..", "shared", "data", "hypergraph"))
DATASETS = {"gps": "GPS", "movielens": "MovieLens", "drug": "drug", "wordnet": "wordnet"}
TYPE_NAMES = {
    "gps": ["user", "location", "activity"],
    "movielens": ["user", "movie", "tag"],
    "drug": ["user", "drug", "reaction"],
    "wordnet": ["head", "relation", "tail"],
}


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ----------------------------------------------------------------------------- data
def load(ds):
    d = os.path.join(DATA, DATASETS[ds])
    tr = np.load(os.path.join(d, "train_data.npz"), allow_pickle=True)
    te = np.load(os.path.join(d, "test_data.npz"), allow_pickle=True)
    nums = np.asarray(tr["nums_type"]).astype(np.int64)
    train = np.asarray(tr["train_data"]).astype(np.int64)
    test = np.asarray(te["test_data"]).astype(np.int64)
    return train, test, nums


def keys_of(edges, nums):
    """Unique int64 key of a (local-id) triple."""
    return (edges[:, 0] * nums[1] + edges[:, 1]) * nums[2] + edges[:, 2]


class KeySet:
    def __init__(self, *edge_arrays, nums):
        self.nums = nums
        self.k = np.unique(np.concatenate([keys_of(e, nums) for e in edge_arrays]))

    def contains(self, edges):
        q = keys_of(edges, self.nums)
        pos = np.searchsorted(self.k, q)
        pos = np.minimum(pos, len(self.k) - 1)
        return self.k[pos] == q


def sample_negatives(pos, n_neg, nums, known: KeySet, rng):
    """Paper protocol: per positive, n_neg negatives. 90%: replace one node (uniform column)
    by a uniform random node of the same type; 10%: resample every node within its type.
    Reject known hyperedges (resample until none is known)."""
    base = np.repeat(pos, n_neg, axis=0)
    out = base.copy()
    todo = np.arange(len(out))
    while len(todo):
        b = base[todo].copy()
        full = rng.random(len(todo)) < 0.1
        col = rng.integers(0, 3, len(todo))
        for c in range(3):
            r = rng.integers(0, nums[c], len(todo))
            sel = full | (col == c)
            b[sel, c] = r[sel]
        out[todo] = b
        todo = todo[known.contains(b)]
    return out


def ordered_pairs(triples):
    """Every ordered pair (u, v), u != v, of each row's three nodes, as two flat arrays."""
    pairs = [(a, b) for a in range(3) for b in range(3) if a != b]
    return (np.concatenate([triples[:, a] for a, _ in pairs]),
            np.concatenate([triples[:, b] for _, b in pairs]))


class Features:
    """Co-occurrence (incidence) rows over global node ids: binary A (A_uv = 1 if u and v
    share a known hyperedge; optionally A_uu = 1), and the pair counts C (how many known
    hyperedges contain both u and v) used to mask a training batch's own edges."""

    def __init__(self, edges, nums, norm="sqrt", self_loop=True):
        self.off = np.concatenate([[0], np.cumsum(nums)[:-1]])
        self.norm = norm
        g = edges + self.off[None, :]
        n = int(nums.sum())
        rows, cols = ordered_pairs(g)
        C = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n))
        C.sum_duplicates()
        self.C = C
        A = C.copy()
        A.data[:] = 1.0
        if self_loop:  # add the node's own column
            A = (A + sp.identity(n, dtype=np.float32, format="csr")).tocsr()
            A.data[:] = 1.0
        A.sort_indices()
        self.A = A
        self.deg = np.diff(A.indptr).astype(np.float32)
        self.n = n

    def encode(self, model, nodes, types, mask_edges=None):
        """Encoder output for `nodes` (unique global ids).  mask_edges: [P,3] global ids of
        hyperedges to hide (a training batch's positives): a pair (u,v) is removed from u's row
        when every known hyperedge containing it is in mask_edges."""
        sub = self.A[nodes]
        ssum = model.encode_sum(torch.from_numpy(sub.indices.astype(np.int64)),
                                torch.from_numpy(sub.indptr[:-1].astype(np.int64)))
        deg = torch.from_numpy(self.deg[nodes].copy())
        if mask_edges is not None and len(mask_edges):
            pa, pb = ordered_pairs(mask_edges)
            key = pa * self.n + pb
            uk, mult = np.unique(key, return_counts=True)
            ua, ub = uk // self.n, uk % self.n
            cnt = np.asarray(self.C[ua, ub]).ravel()
            rm = cnt <= mult
            ua, ub = ua[rm], ub[rm]
            loc = np.searchsorted(nodes, ua)
            ok = (loc < len(nodes))
            ok[ok] = nodes[loc[ok]] == ua[ok]
            loc, ub = loc[ok], ub[ok]
            li = torch.from_numpy(loc.astype(np.int64))
            ssum = ssum.index_add(0, li, -model.enc.weight[torch.from_numpy(ub.astype(np.int64))])
            deg = deg.index_add(0, li, -torch.ones(len(loc)))
        return model.finish(ssum, deg, torch.from_numpy(types[nodes]), self.norm)


# ----------------------------------------------------------------------------- model helpers
def node_types(n_nodes, off):
    t = np.zeros(n_nodes, np.int64)
    for i, o in enumerate(off):
        t[o:] = i
    return t


def forward_candidates(model, feats, types, cand_global, rng=None, recon_k=0, mask_edges=None, dropout=0.0):
    """cand_global: [B,3] global ids. Returns scores [B] (and recon loss if recon_k)."""
    uniq, inv = np.unique(cand_global.reshape(-1), return_inverse=True)
    z = feats.encode(model, uniq, types, mask_edges)
    x = z[torch.from_numpy(inv.reshape(cand_global.shape))]
    if dropout > 0:
        x = F.dropout(x, dropout, training=True)
    mask = torch.ones(cand_global.shape, dtype=torch.float32)
    _, score = model.head(x, mask)
    if not recon_k:
        return score, None
    # sampled reconstruction of each node's (binary) co-occurrence row
    A = feats.A
    deg = np.diff(A.indptr)[uniq]
    has = deg > 0
    if not has.any():
        return score, torch.zeros(())
    u_idx = np.nonzero(has)[0]
    start = A.indptr[uniq[u_idx]]
    pos_cols = A.indices[start[:, None] + (rng.random((len(u_idx), recon_k)) * deg[u_idx, None]).astype(np.int64)]
    neg_cols = rng.integers(0, A.shape[0], (len(u_idx), recon_k))
    cols_all = torch.from_numpy(np.concatenate([pos_cols, neg_cols], 1).astype(np.int64))
    lab = torch.cat([torch.ones(len(u_idx), recon_k), torch.zeros(len(u_idx), recon_k)], 1)
    logits = model.recon_logits(z[torch.from_numpy(u_idx)], cols_all)
    rec = F.binary_cross_entropy_with_logits(logits, lab)
    return score, rec


@torch.no_grad()
def score_all(model, feats, types, cand_global, bs=8192):
    model.eval()
    out = []
    for i in range(0, len(cand_global), bs):
        s, _ = forward_candidates(model, feats, types, cand_global[i:i + bs])
        out.append(s.numpy())
    return np.concatenate(out)


@torch.no_grad()
def build_table(model, feats, types):
    n = feats.n
    z = []
    for i in range(0, n, 16384):
        nodes = np.arange(i, min(n, i + 16384))
        z.append(feats.encode(model, nodes, types))
    return torch.cat(z)


def metrics(labels, scores):
    return float(roc_auc_score(labels, scores)), float(average_precision_score(labels, scores))


def eval_set(pos, nums, known, seed, n_neg=5):
    """Rows: positive then its n_neg negatives. Returns (cands [N,3] local ids, labels)."""
    rng = np.random.default_rng(seed)
    neg = sample_negatives(pos, n_neg, nums, known, rng).reshape(len(pos), n_neg, 3)
    c = np.concatenate([pos[:, None, :], neg], 1).reshape(-1, 3)
    lab = np.tile(np.array([1] + [0] * n_neg, np.int64), len(pos))
    return c, lab


# ----------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--steps-per-epoch", type=int, default=0,
                    help="cap on optimisation steps per epoch (0 = one full pass over the training positives)")
    ap.add_argument("--batch", type=int, default=256, help="positives per step")
    ap.add_argument("--neg", type=int, default=5)
    ap.add_argument("--dim", type=int, default=64, help="node feature (table) dimension")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--recon-weight", type=float, default=0.3)
    ap.add_argument("--recon-k", type=int, default=8)
    ap.add_argument("--norm", default="sqrt", choices=["sqrt", "none"], help="incidence row scaling")
    ap.add_argument("--dropout", type=float, default=0.0, help="dropout on node features (training only)")
    ap.add_argument("--mask-batch", type=int, default=1,
                    help="hide a training batch's own positive hyperedges from the incidence rows")
    ap.add_argument("--self-loop", type=int, default=1, help="add the node's own column to its incidence row")
    ap.add_argument("--val-frac", type=float, default=0.1)
    ap.add_argument("--patience", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(ROOT, "models"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    ds = args.dataset
    t0 = time.time()

    train_raw, test, nums = load(ds)
    train_u = np.unique(train_raw, axis=0)
    perm = np.random.default_rng(args.seed).permutation(len(train_u))
    n_val = int(round(args.val_frac * len(train_u)))
    val_pos, tr_pos = train_u[perm[:n_val]], train_u[perm[n_val:]]
    test_keys = set(keys_of(test, nums).tolist())
    overlap = int(np.isin(keys_of(test, nums), keys_of(train_u, nums)).sum())
    log(f"{ds}: nums={nums.tolist()} train={len(train_raw)} unique={len(train_u)} "
        f"train_fit={len(tr_pos)} val={len(val_pos)} test={len(test)} (unique {len(test_keys)}, in train {overlap})")

    known_tr = KeySet(tr_pos, nums=nums)           # training negatives: reject training edges
    known_val = KeySet(train_u, nums=nums)         # validation negatives: reject all train edges
    known_eval = KeySet(train_u, test, nums=nums)  # test negatives: reject train ∪ test
    feats = Features(tr_pos, nums, args.norm, bool(args.self_loop))  # training split only (no val/test edges)
    off = feats.off
    n_nodes = int(nums.sum())
    types = node_types(n_nodes, off)
    log(f"features: {n_nodes} nodes, nnz={feats.A.nnz}")

    val_c, val_y = eval_set(val_pos, nums, known_val, seed=args.seed + 1)
    test_c, test_y = eval_set(test, nums, known_eval, seed=args.seed + 2)
    val_g, test_g = val_c + off, test_c + off

    model = HyperSAGNNTrain(n_nodes, 3, args.dim, args.hidden, args.heads)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps = int(np.ceil(len(tr_pos) / args.batch))
    if args.steps_per_epoch:
        steps = min(steps, args.steps_per_epoch)
    best = (-1.0, None, None, -1)
    history = []
    bad = 0
    for ep in range(1, args.epochs + 1):
        model.train()
        te = time.time()
        order = rng.permutation(len(tr_pos))
        tot, tot_rec = 0.0, 0.0
        for st in range(steps):
            idx = order[(st * args.batch) % len(order):][:args.batch]
            pos = tr_pos[idx]
            neg = sample_negatives(pos, args.neg, nums, known_tr, rng)
            cand = np.concatenate([pos, neg]) + off
            y = torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))])
            score, rec = forward_candidates(model, feats, types, cand, rng, args.recon_k,
                                            mask_edges=(pos + off) if args.mask_batch else None,
                                            dropout=args.dropout)
            score = score.clamp(1e-6, 1 - 1e-6)
            bce = F.binary_cross_entropy(score, y, reduction="none")
            # balanced: positives and negatives weigh the same
            loss = bce[: len(pos)].mean() + bce[len(pos):].mean()
            if rec is not None:
                loss = loss + args.recon_weight * rec
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss)
            tot_rec += float(rec) if rec is not None else 0.0
        vs = score_all(model, feats, types, val_g)
        vauc, vap = metrics(val_y, vs)
        history.append({"epoch": ep, "loss": tot / steps, "val_auc": vauc, "val_aupr": vap})
        log(f"ep {ep} loss {tot / steps:.4f} rec {tot_rec / steps:.4f} val auc {vauc:.4f} aupr {vap:.4f} "
            f"({time.time() - te:.1f}s)")
        if vauc > best[0]:
            best = (vauc, vap, {k: v.detach().clone() for k, v in model.state_dict().items()}, ep)
            bad = 0
        else:
            bad += 1
            if bad >= args.patience:
                log("early stop")
                break
    train_time = time.time() - t0
    model.load_state_dict(best[2])
    log(f"best epoch {best[3]} val auc {best[0]:.4f}")

    # ---- frozen serving model
    # serving table: the same (trained) encoder applied to the incidence rows of ALL train edges
    # (training split + validation split); decided up front, not chosen on test
    feats_full = Features(train_u, nums, args.norm, bool(args.self_loop))
    table = build_table(model, feats_full, types)
    serve = HyperSAGNNServe(n_nodes, args.dim, args.hidden, args.heads)
    serve.table.data.copy_(table)
    serve.head.load_state_dict(model.head.state_dict())
    serve.eval()

    with torch.no_grad():
        # the serving model must reproduce the training model
        s_tr = score_all(model, feats_full, types, test_g[:2048])
        _, s_sv = serve(torch.from_numpy(test_g[:2048]), torch.ones(min(2048, len(test_g)), 3))
        assert np.abs(s_tr - s_sv.numpy()).max() < 1e-5, "serve != train model"
        # padding check: size-2 candidates padded to size 3 must score like unpadded ones
        g = torch.from_numpy(test_g[:1024])
        for drop in range(3):
            keep = [c for c in range(3) if c != drop]
            _, s2 = serve(g[:, keep], torch.ones(len(g), 2))
            padded = torch.cat([g[:, keep], torch.zeros(len(g), 1, dtype=torch.long)], 1)
            m = torch.tensor([[1.0, 1.0, 0.0]]).repeat(len(g), 1)
            _, s3 = serve(padded, m)
            diff = float((s2 - s3).abs().max())
            assert diff < 1e-5, f"padding changes the score: {diff}"
            # padding in the middle too
            mid = torch.stack([g[:, keep[0]], torch.zeros(len(g), dtype=torch.long), g[:, keep[1]]], 1)
            _, s3m = serve(mid, torch.tensor([[1.0, 0.0, 1.0]]).repeat(len(g), 1))
            assert float((s2 - s3m).abs().max()) < 1e-5
        log(f"padding check ok (max diff {diff:.2e})")
        _, test_s = serve(torch.from_numpy(test_g), torch.ones(len(test_g), 3))
        test_s = test_s.numpy()
    tauc, tap = metrics(test_y, test_s)
    log(f"TEST auc {tauc:.4f} aupr {tap:.4f} ({int(test_y.sum())} positives)")

    # ---- outputs
    name = f"hypersagnn-{ds}"
    out_dir = os.path.join(args.out, name, "1")
    os.makedirs(out_dir, exist_ok=True)
    rows = np.concatenate([test_c, test_y[:, None]], 1).astype("<i4")
    with gzip.open(os.path.join(out_dir, "test-eval.bin.gz"), "wb") as f:
        f.write(rows.tobytes())

    onnx_path = os.path.join(out_dir, "model.onnx")
    dummy = (torch.from_numpy(test_g[:4]), torch.ones(4, 3))
    torch.onnx.export(serve, dummy, onnx_path, opset_version=17,
                      input_names=["node_index", "node_mask"], output_names=["node_prob", "score"],
                      dynamic_axes={"node_index": {0: "batch", 1: "size"}, "node_mask": {0: "batch", 1: "size"},
                                    "node_prob": {0: "batch", 1: "size"}, "score": {0: "batch"}},
                      do_constant_folding=True)
    import onnx
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    log(f"onnx ok: {os.path.getsize(onnx_path) / 1e6:.2f} MB, ops {ops}")

    state = {"config": {"num_nodes": n_nodes, "dim": args.dim, "hidden": args.hidden, "heads": args.heads,
                        "nums_type": nums.tolist()},
             "state_dict": serve.state_dict()}
    pt_path = os.path.join(out_dir, "model.pt")
    torch.save(state, pt_path)
    if os.path.getsize(pt_path) > 10e6:
        cache = os.path.join(ROOT, ".cache", "hypergraph")
        os.makedirs(cache, exist_ok=True)
        os.replace(pt_path, os.path.join(cache, f"{ds}.pt"))
        pt_path = os.path.join(cache, f"{ds}.pt")
    log(f"weights: {pt_path}")

    cmd = "nice -n 10 /usr/bin/python3 training/hypergraph/train.py " + " ".join(sys.argv[1:])
    offs = [int(o) for o in off]
    card = {
        "name": name,
        "version": "1",
        "task": "hyperedge-prediction",
        "description": (f"Hyper-SAGNN (Zhang, Zou & Ma, ICLR 2020), encoder variant, trained on the {DATASETS[ds]} "
                        "hypergraph (3-uniform, heterogeneous). Scores a candidate hyperedge (2 or 3 nodes): "
                        "node_prob is p_i per node, score is the mean of p_i over real nodes."),
        "inputs": [{"name": "node_index", "dtype": "int64", "shape": ["batch", "size"]},
                   {"name": "node_mask", "dtype": "float32", "shape": ["batch", "size"]}],
        "outputs": [{"name": "node_prob", "dtype": "float32", "shape": ["batch", "size"]},
                    {"name": "score", "dtype": "float32", "shape": ["batch"]}],
        "preprocessing": {
            "nodeTypes": [{"name": t, "count": int(c), "offset": o}
                          for t, c, o in zip(TYPE_NAMES[ds], nums, offs)],
            "minCandidateSize": 2,
            "maxCandidateSize": 3,
            "nodeIndex": "global index = offset[type] + per-type id; pad with index 0 and mask 0",
        },
        "metrics": {
            "test": {"auc": round(tauc, 4), "aupr": round(tap, 4), "positives": int(test_y.sum()),
                     "negativesPerPositive": 5},
            "validation": {"auc": round(best[0], 4), "aupr": round(best[1], 4), "positives": int(len(val_pos)),
                           "negativesPerPositive": 5, "bestEpoch": best[3]},
            "paper": None,
            "evalFile": "test-eval.bin.gz (int32 LE rows: 3 per-type ids, label; positive then its 5 negatives)",
            "command": cmd,
            "machine": "CPU, 2 cores (dev box)",
        },
        "training": {
            "data": f"../shared/data/hypergraph/{DATASETS[ds]}/train_data.npz (test_data.npz only for the final test metrics)",
            "command": cmd,
            "epochs": best[3],
            "epochsRun": len(history),
            "seed": args.seed,
            "wallSeconds": round(train_time, 1),
            "notes": (
                f"Train rows deduplicated ({len(train_raw)} -> {len(train_u)}); {len(val_pos)} of them (seed {args.seed}) "
                "held out for validation; model selected on validation AUC (best epoch), never on test. "
                "Node features: binary co-occurrence (incidence) row over all nodes (never from test edges) "
                "plus the node's own column"
                + (", scaled by 1/sqrt(degree)" if args.norm == "sqrt" else "") + ", log1p(degree) as an extra input, through a sparse linear encoder + tanh "
                f"({args.dim} dims) of an autoencoder trained JOINTLY with the hyperedge loss (reconstruction loss = "
                f"sampled BCE on {args.recon_k} co-occurring + {args.recon_k} random columns per node, weight {args.recon_weight}). "
                "At export the encoder output of every node is frozen into a constant table (Gather initializer). "
                f"Feature dropout {args.dropout}. "
                "Training batches hide their own positive hyperedges from the incidence rows (pairs only seen in "
                "those edges are removed), so training positives look like unseen edges; the exported table uses "
                "the incidence rows of ALL train edges (training + validation split), validation metrics use rows "
                "without validation edges. "
                f"Head: hidden {args.hidden}, {args.heads} heads, attention masks the diagonal and padded nodes. "
                f"Negatives: {args.neg} per positive (90% one node swapped within its type, 10% all nodes resampled), "
                "rejecting training edges (training), all train edges (validation), train and test edges (test). "
                f"Adam lr {args.lr}, batch {args.batch} positives, "
                + (f"{steps} steps per epoch. " if args.steps_per_epoch else "full pass per epoch. ")
                + f"Padding check: size-2 candidates padded to 3 match unpadded within 1e-5 (asserted). "
                + (f"Test set overlap: {overlap} of {len(test)} test rows also occur in train (data as given, not removed)."
                   if overlap else "")
            ),
            "history": history,
        },
        "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    with open(os.path.join(out_dir, "card.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    log(f"done in {time.time() - t0:.0f}s -> {out_dir}")


if __name__ == "__main__":
    main()
