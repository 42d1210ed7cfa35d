#!/usr/bin/env python3
"""Serving-graph rewrite of an exported Hyper-SAGNN ensemble (the function stays; the graph changes).

  /usr/bin/python3 training/hypergraph/fuse.py models/hypersagnn-gps/2 [models/hypersagnn-drug/2 ...]
  /usr/bin/python3 training/hypergraph/fuse.py --chunk 0 --out /tmp/gps-no-loop.onnx models/hypersagnn-gps/2

(export.py and train.py call fuse() themselves; the CLI is for rewriting a served file in place,
or, with --out, writing a variant elsewhere for a speed comparison, unverified.)

A graph transformation in the spirit of TensorRT's layer fusion, done once at export: the weights
(ONNX initializers) are kept as they are, byte for byte and under the same names, and only the
operators around them change. What `torch.onnx.export` writes for `model.HyperSAGNNServe` runs
every member as its own copy of the head (1,213 operators for gps's 10 members, many of them
shape arithmetic); the rewritten graph

* computes the candidate shape, the key permutations and the attention masks once for all members
  (not once per member), gathers the table rows once and gives each member its slice of columns;
* computes attention over the 2-3 nodes of a candidate without the [batch, S, S, heads, dim]
  broadcast: for the keys j != i it takes the nodes rolled by t = 1 .. maxSize-1 (a Gather along
  the node axis), so each product is a same-shape Mul, and sums / spreads over a head's 16
  dimensions with MatMuls by constant 0/1 matrices (the 1/sqrt(head_dim) scale, 0.25, sits in
  the summing matrix; both are exact: one nonzero term per output). Rolling by t >= S (size-2
  candidates) reaches the node itself, which the mask excludes, as the original's diagonal was;
* keeps every position-wise layer a 2-D Gemm on the trained [out, in] weights (ONNX Runtime packs
  them once at load and fuses bias and tanh), per member. Stacking the members into one batched
  MatMul ([M, in, out] weights) was tried and was slower at batch 64 and 4,096 in ONNX Runtime 1.30
  (3-D weights are not pre-packed and the bias is a separate pass); see docs/hypergraph.md;
* runs batches above `chunk` candidates as a Loop over chunks of at most `chunk` (evenly sized,
  the last padded with mask 0 and cut off), so the intermediate tensors stay in the CPU cache:
  ONNX Runtime ran the whole-batch graph about 1.5x slower per candidate at 4,096 than at 64.

Candidates can have at most `maxCandidateSize` (the card's, 3: one node per type) nodes, which the
API enforces; the masked softmax and the member mean are the original's operations, so the scores
equal the unfused graph's to float rounding. The CLI rewrites a folder's model.onnx in place (from
its own initializers, so running it on an already rewritten file rebuilds the same graph), then
runs verify_onnx.cjs against the previous file: scores must agree within 1e-5 and AUC/AUPR to 4
decimals, padded and unpadded.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as oh
from onnx import numpy_helper as nh

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
LAYERS = ("inp", "static", "q", "k", "v", "o", "out")
CHUNK = 128  # candidates per Loop iteration; 64-128 were fastest on gps/wordnet at batch 4,096


def _i64(*values):
    return np.array(values, np.int64)


def fuse(model: onnx.ModelProto, heads: int, max_size: int, chunk: int = CHUNK) -> onnx.ModelProto:
    """The rewritten graph of an exported HyperSAGNNServe (`model`: either torch.onnx.export's
    graph or an already rewritten one; both hold the same initializers). `heads`: attention heads
    per member, `max_size`: the largest candidate size served, `chunk`: 0 for no Loop."""
    weights = {t.name: t for t in model.graph.initializer}
    # LayerNorm epsilon: from torch's graph, or from the note a rewritten graph carries
    eps = [a.f for n in model.graph.node for a in n.attribute if n.op_type == "LayerNormalization" and a.name == "epsilon"]
    eps = eps[0] if eps else float({p.key: p.value for p in model.metadata_props}.get("ln_epsilon", 1e-5))
    members = sorted({int(name.split(".")[1]) for name in weights if name.startswith("members.")})
    m_count = len(members)
    assert members == list(range(m_count)) and m_count, "no members.<k>.* initializers: not a HyperSAGNNServe export"
    layer_norm = "members.0.ln_s.weight" in weights
    table = weights["table"]
    dim = table.dims[1] // m_count
    inner = weights["members.0.q.weight"].dims[0]
    hidden = weights["members.0.static.weight"].dims[0]
    dh = inner // heads
    assert dh * heads == inner

    consts = {}

    def const(name, value):
        if name not in consts:
            consts[name] = nh.from_array(np.array(value, copy=True, order="C"), name)
        return name

    # exact head reductions: one nonzero term per output
    const("head_sum", np.kron(np.eye(heads, dtype=np.float32), np.full((dh, 1), 1.0 / np.sqrt(dh), np.float32)))
    const("head_spread", np.kron(np.eye(heads, dtype=np.float32), np.ones((1, dh), np.float32)))
    assert np.float32(1.0 / np.sqrt(dh)) * np.float32(np.sqrt(dh)) == 1.0 and float(np.log2(dh)) % 2 == 0, \
        "the scale folded into head_sum is exact only for head_dim a power of 4"

    def builder(nodes, prefix):
        def node(op, inputs, outputs=None, **attrs):
            outputs = outputs or [f"{prefix}{op}_{len(nodes)}"]
            nodes.append(oh.make_node(op, inputs, outputs, name=outputs[0], **attrs))
            return outputs[0] if len(outputs) == 1 else outputs
        return node

    def body(N, index, mask, prob_out, score_out):
        """node_prob / score of candidates `index` [B, S] int64, `mask` [B, S] float."""
        shape = N("Shape", [index])
        size = N("Gather", [shape, const("one", np.array(1, np.int64))], axis=0)
        b_u = N("Unsqueeze", [N("Gather", [shape, const("zero", np.array(0, np.int64))], axis=0), const("axis0", _i64(0))])
        s_u = N("Unsqueeze", [size, "axis0"])
        shape_bs = N("Concat", [b_u, s_u], axis=0)
        shape_bsx = N("Concat", [b_u, s_u, const("minus1", _i64(-1))], axis=0)
        rows = N("Gather", ["table", N("Reshape", [index, "minus1"])], axis=0)  # [B*S, members*dim]
        if table.data_type != TP.FLOAT:
            rows = N("Cast", [rows], to=TP.FLOAT)
        positions = N("Range", ["zero", size, "one"])
        mask3 = N("Unsqueeze", [mask, const("axis2", _i64(2))])  # [B, S, 1]
        # key j = (i + t) mod S for t = 1 .. max_size-1; t mod S == 0 is the node itself: masked
        keys = []
        for t in range(1, max_size):
            shift = const(f"shift{t}", np.array(t, np.int64))
            perm = N("Mod", [N("Add", [positions, shift]), size])
            other = N("Cast", [N("Not", [N("Equal", [N("Mod", [shift, size]), "zero"])])], to=TP.FLOAT)
            allowed = N("Mul", [N("Gather", [mask3, perm], axis=1), other])  # [B, S, 1]
            penalty = N("Mul", [N("Sub", [const("f_one", np.array(1.0, np.float32)), allowed]), const("neg_inf", np.array(-1e9, np.float32))])
            keys.append((perm, allowed, penalty))

        def gemm(x, layer, m):
            return N("Gemm", [x, f"members.{m}.{layer}.weight", f"members.{m}.{layer}.bias"], transB=1)

        probs = []
        for m in members:
            x = rows if m_count == 1 else N("Slice", [rows, const(f"col{m}", _i64(m * dim)), const(f"col{m + 1}", _i64((m + 1) * dim)), "one_axis"])
            h = N("Tanh", [gemm(x, "inp", m)])
            s = N("Tanh", [gemm(h, "static", m)])
            q = N("Reshape", [gemm(h, "q", m), shape_bsx])  # [B, S, heads*dh]
            k = N("Reshape", [gemm(h, "k", m), shape_bsx])
            v = N("Reshape", [gemm(h, "v", m), shape_bsx])
            masked = [N("Add", [N("MatMul", [N("Mul", [q, N("Gather", [k, perm], axis=1)]), "head_sum"]), penalty])
                      for perm, _, penalty in keys]  # [B, S, heads] per key
            top = masked[0] if len(masked) == 1 else N("Max", masked)
            e = [N("Mul", [N("Exp", [N("Clip", [N("Sub", [logit, top]), const("f_minus80", np.array(-80.0, np.float32))])]), allowed])
                 for logit, (_, allowed, _) in zip(masked, keys)]
            total = N("Clip", [e[0] if len(e) == 1 else N("Sum", e), const("f_tiny", np.array(1e-30, np.float32))])
            terms = [N("Mul", [N("MatMul", [N("Div", [e_t, total]), "head_spread"]), N("Gather", [v, perm], axis=1)])
                     for e_t, (perm, _, _) in zip(e, keys)]
            d = N("Reshape", [terms[0] if len(terms) == 1 else N("Sum", terms), const("rows_inner", _i64(-1, inner))])
            d = N("Tanh", [gemm(d, "o", m)])
            if layer_norm:
                s = N("LayerNormalization", [s, f"members.{m}.ln_s.weight", f"members.{m}.ln_s.bias"], axis=-1, epsilon=eps)
                d = N("LayerNormalization", [d, f"members.{m}.ln_d.weight", f"members.{m}.ln_d.bias"], axis=-1, epsilon=eps)
            diff = N("Sub", [d, s])
            probs.append(N("Sigmoid", [gemm(N("Mul", [diff, diff]), "out", m)]))  # [B*S, 1]
        mean = probs[0] if m_count == 1 else N("ReduceMean", [N("Concat", probs, axis=1)], axes=[1], keepdims=0)
        N("Reshape", [mean, shape_bs], [prob_out])
        total_prob = N("ReduceSum", [N("Mul", [prob_out, mask]), const("axis1", _i64(1))], keepdims=0)
        N("Div", [total_prob, N("Max", [N("ReduceSum", [mask, "axis1"], keepdims=0), "f_one"])], [score_out])

    if m_count > 1:  # the members' column slices
        const("one_axis", _i64(1))
    info = lambda name, elem: oh.make_tensor_value_info(name, elem, None)  # noqa: E731
    top = []
    if not chunk:
        body(builder(top, ""), "node_index", "node_mask", "node_prob", "score")
        return _model(top, weights, members, layer_norm, consts, eps, chunk)
    direct_nodes = []
    body(builder(direct_nodes, "d_"), "node_index", "node_mask", "d_prob", "d_score")
    direct = oh.make_graph(direct_nodes, "direct", [], [info("d_prob", TP.FLOAT), info("d_score", TP.FLOAT)])

    # batches above `chunk`: n = ceil(B / chunk) chunks of c = ceil(B / n) candidates (< n padded rows)
    loop_nodes = []
    L = builder(loop_nodes, "l_")
    shape = L("Shape", ["node_index"])
    batch = L("Gather", [shape, "zero"], axis=0)
    size_u = L("Unsqueeze", [L("Gather", [shape, "one"], axis=0), "axis0"])
    n = L("Div", [L("Add", [batch, const("chunk_minus1", np.array(chunk - 1, np.int64))]), const("chunk", np.array(chunk, np.int64))])
    c = L("Div", [L("Sub", [L("Add", [batch, n]), "one"]), n])
    pad = L("Sub", [L("Mul", [n, c]), batch])
    pads = L("Concat", [const("zero1", _i64(0)), "zero1", L("Unsqueeze", [pad, "axis0"]), "zero1"], axis=0)
    chunked = L("Concat", [L("Unsqueeze", [n, "axis0"]), L("Unsqueeze", [c, "axis0"]), size_u], axis=0)
    index_chunks = L("Reshape", [L("Pad", ["node_index", pads]), chunked])
    mask_chunks = L("Reshape", [L("Pad", ["node_mask", pads]), chunked])
    step_nodes = []
    B = builder(step_nodes, "b_")
    body(B, B("Gather", [index_chunks, "b_iter"], axis=0), B("Gather", [mask_chunks, "b_iter"], axis=0), "b_prob", "b_score")
    B("Identity", ["b_cond_in"], ["b_cond_out"])
    step = oh.make_graph(step_nodes, "chunk",
                         [oh.make_tensor_value_info("b_iter", TP.INT64, []), oh.make_tensor_value_info("b_cond_in", TP.BOOL, [])],
                         [oh.make_tensor_value_info("b_cond_out", TP.BOOL, []), info("b_prob", TP.FLOAT), info("b_score", TP.FLOAT)])
    probs, scores = L("Loop", [n, const("true", np.array(True))], ["l_probs", "l_scores"], body=step)
    batch_u = L("Unsqueeze", [batch, "axis0"])
    L("Slice", [L("Reshape", [probs, L("Concat", ["minus1", size_u], axis=0)]), "zero1", batch_u, "zero1"], ["l_prob"])
    L("Slice", [L("Reshape", [scores, "minus1"]), "zero1", batch_u, "zero1"], ["l_score"])
    looped = oh.make_graph(loop_nodes, "looped", [], [info("l_prob", TP.FLOAT), info("l_score", TP.FLOAT)])

    T = builder(top, "")
    big = T("Greater", [T("Gather", [T("Shape", ["node_index"]), "zero"], axis=0), "chunk"])
    T("If", [big], ["node_prob", "score"], then_branch=looped, else_branch=direct)
    return _model(top, weights, members, layer_norm, consts, eps, chunk)


def _model(top, weights, members, layer_norm, consts, eps, chunk):
    kept = [weights[name] for name in ["table"] + [f"members.{m}.{layer}.{p}" for m in members
                                                     for layer in LAYERS + (("ln_s", "ln_d") if layer_norm else ())
                                                     for p in ("weight", "bias")]]
    graph = oh.make_graph(top, "hypersagnn_serve_fused", [
        oh.make_tensor_value_info("node_index", TP.INT64, ["batch", "size"]),
        oh.make_tensor_value_info("node_mask", TP.FLOAT, ["batch", "size"]),
    ], [
        oh.make_tensor_value_info("node_prob", TP.FLOAT, ["batch", "size"]),
        oh.make_tensor_value_info("score", TP.FLOAT, ["batch"]),
    ], kept + list(consts.values()))
    out = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)], producer_name="lumen training/hypergraph/fuse.py")
    out.ir_version = 8
    oh.set_model_props(out, {"ln_epsilon": repr(eps), "rewrite": "fuse.py (members share shape/mask work, rolled-key attention"
                                                                + (f", Loop over chunks of {chunk})" if chunk else ")")})
    onnx.checker.check_model(out)
    return out


def same_weights(a: onnx.ModelProto, b: onnx.ModelProto):
    """Names of a's state-dict initializers (table, members.*) that b lacks or holds different bytes for."""
    b_init = {t.name: t for t in b.graph.initializer}
    return [t.name for t in a.graph.initializer if (t.name == "table" or t.name.startswith("members."))
            and (t.name not in b_init or nh.to_array(b_init[t.name]).tobytes() != nh.to_array(t).tobytes()
                 or b_init[t.name].data_type != t.data_type)]


def operators(model: onnx.ModelProto) -> int:
    """Operators one run of a batch of at most CHUNK candidates executes (the If's direct branch)."""
    top = model.graph.node
    branch = [a.g for n in top if n.op_type == "If" for a in n.attribute if a.name == "else_branch"]
    return len(top) - 1 + len(branch[0].node) if branch else len(top)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--chunk", type=int, default=CHUNK, help="candidates per Loop iteration; 0: no Loop")
    ap.add_argument("--out", help="write the graph here (one folder only) instead of replacing model.onnx; not verified")
    args = ap.parse_args()
    assert not args.out or len(args.folders) == 1, "--out takes one folder"
    for folder in args.folders:
        path = os.path.join(folder, "model.onnx")
        with open(os.path.join(folder, "card.json")) as f:
            card = json.load(f)
        before = onnx.load(path)
        after = fuse(before, card["training"]["architecture"]["heads"], card["preprocessing"]["maxCandidateSize"], args.chunk)
        changed = same_weights(before, after)
        assert not changed, f"{folder}: weights changed: {changed[:5]}"
        if args.out:
            onnx.save(after, args.out)
            print(json.dumps({"model": folder, "out": args.out, "chunk": args.chunk, "operators": operators(after), "verified": False}))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            previous = os.path.join(tmp, "previous.onnx")
            shutil.copyfile(path, previous)
            onnx.save(after, path)
            check = subprocess.run(["node", os.path.join(HERE, "verify_onnx.cjs"), folder, "--against", previous],
                                   cwd=ROOT, capture_output=True, text=True)
            if check.returncode != 0:
                shutil.copyfile(previous, path)  # leave the folder as it was
                raise SystemExit(f"{folder}: {check.stdout}{check.stderr}")
        result = json.loads(check.stdout.strip().splitlines()[-1])
        print(json.dumps({"model": folder, "operatorsBefore": operators(before), "operatorsAfter": operators(after),
                          "weightsIdentical": True, "onnxBytes": os.path.getsize(path), **result}))


if __name__ == "__main__":
    main()
