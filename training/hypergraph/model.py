"""Hyper-SAGNN (Zhang, Zou & Ma, ICLR 2020), "encoder" variant.

Two modules share the same attention/scoring head:

* ``HyperSAGNNTrain``: node features are computed from each node's co-occurrence
  (incidence) row by an autoencoder (sparse linear encoder + tanh, decoder used only
  for the reconstruction loss), optionally concatenated with a freely trained per-node
  embedding.  Trained jointly with the hyperedge loss.
* ``HyperSAGNNServe``: the node features of every node are frozen into a constant
  table; the model takes global node indices + a mask.  It may hold several trained
  members (an ensemble): their tables sit side by side in one table and their scores
  are averaged.  This is what is exported to ONNX (one Gather from a constant
  initializer) and what the throughput benchmark loads.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG_INF = -1e9


def masked_softmax(logits, allowed, dim=-1):
    """Softmax over axis `dim` among the `allowed` (1) entries; the others get exactly 0.

    The same as softmax(logits + (1 - allowed) * NEG_INF) up to e^-80 terms, written so that exp
    never sees a huge negative argument: ONNX Runtime's Softmax runs about 9 times slower on rows
    holding -1e9 (measured on [4096, 8, 3, 3]), while the numbers fed to exp here stay in [-80, 0].
    """
    masked = logits + (1.0 - allowed) * NEG_INF
    top = masked.max(dim=dim, keepdim=True)[0]
    e = torch.exp((masked - top).clamp(min=-80.0)) * allowed
    return e / e.sum(dim=dim, keepdim=True).clamp(min=1e-30)


class SAGNNHead(nn.Module):
    """Static / dynamic embeddings and the per-node probability p_i.

    x: [B, S, D] node features, mask: [B, S] float (1 real, 0 padding).
    Returns node_prob [B, S] and score [B] (masked mean of node_prob).
    """

    def __init__(self, in_dim: int, hidden: int = 64, heads: int = 4, head_dim: int = 0,
                 layer_norm: bool = False, att_dropout: float = 0.0):
        super().__init__()
        if not head_dim:
            assert hidden % heads == 0
            head_dim = hidden // heads
        self.hidden = hidden
        self.heads = heads
        self.dh = head_dim
        inner = heads * head_dim
        self.att_dropout = att_dropout
        self.inp = nn.Linear(in_dim, hidden)  # shared position-wise layer
        # static embedding: position-wise feed-forward of the node's own features
        self.static = nn.Linear(hidden, hidden)
        # dynamic embedding: multi-head self-attention over the OTHER nodes
        self.q = nn.Linear(hidden, inner)
        self.k = nn.Linear(hidden, inner)
        self.v = nn.Linear(hidden, inner)
        self.o = nn.Linear(inner, hidden)
        # the reference code normalises both embeddings before comparing them
        self.ln_s = nn.LayerNorm(hidden) if layer_norm else None
        self.ln_d = nn.LayerNorm(hidden) if layer_norm else None
        self.out = nn.Linear(hidden, 1)

    def forward(self, x, mask):
        B = x.shape[0]
        S = x.shape[1]
        # position-wise layers on [B*S, features]: ONNX Runtime fuses a 2-D MatMul and its bias into
        # one Gemm, but not a 3-D one
        h = torch.tanh(self.inp(x.reshape(B * S, x.shape[2])))
        s = torch.tanh(self.static(h))
        # Candidates have 2-3 nodes, so attention is computed by broadcasting over the key axis
        # instead of as batched S x S matrix products: for S = 3 those are tens of thousands of
        # 3 x 16 products per batch, slow in both runtimes, and no head transposes are needed.
        q = self.q(h).reshape(B, S, 1, self.heads, self.dh)  # query i, -, head, dim
        k = self.k(h).reshape(B, 1, S, self.heads, self.dh)  # -, key j, head, dim
        v = self.v(h).reshape(B, 1, S, self.heads, self.dh)
        att = (q * k).sum(-1) * (1.0 / math.sqrt(self.dh))  # B, i, j, H
        idx = torch.arange(S, device=x.device)
        not_self = (idx.unsqueeze(1) != idx.unsqueeze(0)).to(x.dtype)  # S,S
        allowed = not_self.unsqueeze(0) * mask.unsqueeze(1)  # B,S(query),S(key)
        att = masked_softmax(att, allowed.unsqueeze(-1), dim=2)
        if self.att_dropout > 0 and self.training:
            att = F.dropout(att, self.att_dropout, training=True)
        d = (att.unsqueeze(-1) * v).sum(2).reshape(B * S, self.heads * self.dh)
        d = torch.tanh(self.o(d))
        if self.ln_s is not None:
            s = self.ln_s(s)
            d = self.ln_d(d)
        diff = d - s
        logit = self.out(diff * diff).reshape(B, S)
        node_prob = torch.sigmoid(logit)
        score = (node_prob * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return node_prob, score


    def forward_textbook(self, x, mask):
        """The same function written as version 1 wrote it (and as attention usually is): heads
        transposed out, S x S matrix products, softmax over logits masked with -1e9. Kept for the
        speed comparison only (bench/hypergraph/pytorch_throughput.py --forward textbook)."""
        B, S = x.shape[0], x.shape[1]
        h = torch.tanh(self.inp(x))
        s = torch.tanh(self.static(h))
        q = self.q(h).reshape(B, S, self.heads, self.dh).transpose(1, 2)  # B,H,S,dh
        k = self.k(h).reshape(B, S, self.heads, self.dh).transpose(1, 2)
        v = self.v(h).reshape(B, S, self.heads, self.dh).transpose(1, 2)
        att = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(self.dh))  # B,H,S,S
        idx = torch.arange(S, device=x.device)
        allowed = (idx.unsqueeze(1) != idx.unsqueeze(0)).to(x.dtype).unsqueeze(0) * mask.unsqueeze(1)
        att = torch.softmax(att + (1.0 - allowed).unsqueeze(1) * NEG_INF, dim=-1)
        d = torch.tanh(self.o(torch.matmul(att, v).transpose(1, 2).reshape(B, S, self.heads * self.dh)))
        if self.ln_s is not None:
            s = self.ln_s(s)
            d = self.ln_d(d)
        diff = d - s
        node_prob = torch.sigmoid(self.out(diff * diff).squeeze(-1))
        return node_prob, (node_prob * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def head_kwargs(cfg: dict) -> dict:
    """The SAGNNHead options stored in a model config (absent in version-1 configs)."""
    return {"head_dim": cfg.get("head_dim", 0), "layer_norm": bool(cfg.get("head_ln", False))}


class HyperSAGNNTrain(nn.Module):
    def __init__(self, num_nodes: int, num_types: int, dim: int, hidden: int, heads: int,
                 head_dim: int = 0, head_ln: bool = False, att_dropout: float = 0.0,
                 enc_ln: bool = False, free_dim: int = 0):
        super().__init__()
        self.num_nodes = num_nodes
        # encoder: sparse incidence row (num_nodes wide) -> dim, per-type bias, tanh
        self.enc = nn.EmbeddingBag(num_nodes, dim, mode="sum")
        nn.init.normal_(self.enc.weight, std=1.0 / math.sqrt(dim))
        self.enc_bias = nn.Parameter(torch.zeros(num_types, dim))
        # degree (row sum of the binary incidence row) enters through log1p(deg) * v_type
        self.enc_deg = nn.Parameter(torch.zeros(num_types, dim))
        self.enc_ln = nn.LayerNorm(dim) if enc_ln else None
        # decoder (reconstruction only)
        self.dec = nn.Embedding(num_nodes, dim)
        nn.init.normal_(self.dec.weight, std=1.0 / math.sqrt(dim))
        self.dec_bias = nn.Parameter(torch.zeros(num_nodes))
        # a freely trained embedding per node, concatenated to the encoder output
        self.free = nn.Embedding(num_nodes, free_dim) if free_dim else None
        if self.free is not None:
            nn.init.normal_(self.free.weight, std=0.1)
        self.head = SAGNNHead(dim + free_dim, hidden, heads, head_dim, head_ln, att_dropout)

    def encode_sum(self, cols, offsets, weights=None):
        """Sum of encoder columns over each incidence row (weights: the row's values, None = binary)."""
        return self.enc(cols, offsets, per_sample_weights=weights)

    def finish(self, ssum, deg, types, norm: str, nodes):
        """ssum: [U,dim] row sums, deg: [U] float row degree (nnz).  norm 'sqrt' scales by 1/sqrt(deg)."""
        if norm == "sqrt":
            ssum = ssum * deg.clamp(min=1.0).rsqrt().unsqueeze(1)
        z = torch.tanh(ssum + self.enc_bias[types] + torch.log1p(deg).unsqueeze(1) * self.enc_deg[types])
        if self.enc_ln is not None:
            z = self.enc_ln(z)
        if self.free is not None:
            z = torch.cat([z, self.free(nodes)], 1)
        return z

    def recon_logits(self, z, cols):
        """z: [U, dim(+free)], cols: [U, K] -> logits [U, K] (the encoder part of z only)."""
        w = self.dec(cols)  # U,K,dim
        z = z[:, : w.shape[-1]]
        return (w * z.unsqueeze(1)).sum(-1) + self.dec_bias[cols]


class HyperSAGNNServe(nn.Module):
    """Frozen node table + head(s); inputs node_index int64 [B,S], node_mask float32 [B,S].

    With `members` > 1 the table holds each member's features side by side
    ([num_nodes, members * dim]); node_prob and score are the members' means. `table_fp16` stores
    the table in float16 (half the file size; gathered rows are cast back to float32).
    """

    def __init__(self, num_nodes: int, dim: int, hidden: int, heads: int, members: int = 1,
                 table_fp16: bool = False, **kwargs):
        super().__init__()
        self.dim = dim
        self.textbook = False  # True: the heads run forward_textbook (speed comparison only)
        dtype = torch.float16 if table_fp16 else torch.float32
        self.table = nn.Parameter(torch.zeros(num_nodes, members * dim, dtype=dtype), requires_grad=False)
        self.members = nn.ModuleList([SAGNNHead(dim, hidden, heads, **kwargs) for _ in range(members)])

    def forward(self, node_index, node_mask):
        x = F.embedding(node_index, self.table)
        if x.dtype != torch.float32:
            x = x.float()
        if len(self.members) == 1:
            return self.members[0].forward_textbook(x, node_mask) if self.textbook else self.members[0](x, node_mask)
        probs, scores = [], []
        for k, head in enumerate(self.members):
            part = x[..., k * self.dim:(k + 1) * self.dim]
            p, s = head.forward_textbook(part, node_mask) if self.textbook else head(part, node_mask)
            probs.append(p)
            scores.append(s)
        return torch.stack(probs).mean(0), torch.stack(scores).mean(0)


def load_serve(path: str):
    """A HyperSAGNNServe from a model.pt written by train.py (version 1 files had one `head`)."""
    ck = torch.load(path, map_location="cpu")
    cfg = ck["config"]
    state = {("members.0." + k[len("head."):] if k.startswith("head.") else k): v for k, v in ck["state_dict"].items()}
    model = HyperSAGNNServe(cfg["num_nodes"], cfg["dim"], cfg["hidden"], cfg["heads"], cfg.get("members", 1),
                            bool(cfg.get("table_fp16", False)), **head_kwargs(cfg))
    model.load_state_dict(state)
    model.eval()
    return model, cfg


@torch.no_grad()
def flush_denormals(module):
    """Sets float32 weights below the smallest normal float (1.2e-38) to 0 and returns how many.
    Weight decay leaves some there (drug v2: 1,184 of 1.6 M), and matrix products with subnormal
    operands ran about 8 times slower in ONNX Runtime (and slower in PyTorch); the scores cannot
    change by more than float rounding."""
    flushed = 0
    for tensor in list(module.parameters()) + list(module.buffers()):
        if tensor.dtype == torch.float32:
            tiny = (tensor != 0) & (tensor.abs() < torch.finfo(torch.float32).tiny)
            flushed += int(tiny.sum())
            tensor[tiny] = 0.0
    return flushed


def export_onnx(serve, sample_index, path, unfused_path=None):
    """Writes the serving model as ONNX (opset 17, dynamic batch and candidate size) and returns the
    operator types it uses. torch.onnx.export writes the graph of `serve` as is; fuse.py then
    rewrites it around the same weights for serving (see fuse.py), which is what `path` gets.
    Candidates may have at most sample_index.shape[1] nodes. `unfused_path`: where to keep
    torch's graph (for verify_onnx.cjs --against), else it is deleted."""
    import os
    import tempfile

    import onnx
    from fuse import fuse
    serve.eval()
    fd, raw = tempfile.mkstemp(suffix=".onnx")
    os.close(fd)
    try:
        torch.onnx.export(serve, (sample_index, torch.ones(sample_index.shape)), raw, opset_version=17,
                          input_names=["node_index", "node_mask"], output_names=["node_prob", "score"],
                          dynamic_axes={"node_index": {0: "batch", 1: "size"}, "node_mask": {0: "batch", 1: "size"},
                                        "node_prob": {0: "batch", 1: "size"}, "score": {0: "batch"}},
                          do_constant_folding=True)
        m = onnx.load(raw)
        onnx.checker.check_model(m)
        fused = fuse(m, serve.members[0].heads, sample_index.shape[1])
        onnx.save(fused, path)
        if unfused_path:
            os.replace(raw, unfused_path)
    finally:
        if os.path.exists(raw):
            os.remove(raw)

    def ops(graph):
        return {n.op_type for n in graph.node} | {o for n in graph.node for a in n.attribute if a.type == a.GRAPH for o in ops(a.g)}
    return sorted(ops(fused.graph))


@torch.no_grad()
def check_padding(serve, candidates):
    """Asserts that size-2 candidates (each 3-node candidate less one node) score the same, within
    1e-5, unpadded and padded to size 3 with index 0 / mask 0 at the end or in the middle.
    candidates: [N, 3] global ids. Returns the largest difference seen."""
    worst = 0.0
    n = len(candidates)
    for drop in range(3):
        keep = [c for c in range(3) if c != drop]
        _, alone = serve(candidates[:, keep], torch.ones(n, 2))
        zero = torch.zeros(n, dtype=torch.long)
        for slots, mask in (([keep[0], keep[1], None], [1.0, 1.0, 0.0]), ([keep[0], None, keep[1]], [1.0, 0.0, 1.0])):
            padded = torch.stack([zero if c is None else candidates[:, c] for c in slots], 1)
            _, score = serve(padded, torch.tensor([mask]).repeat(n, 1))
            diff = float((alone - score).abs().max())
            assert diff < 1e-5, f"padding changes the score by {diff}"
            worst = max(worst, diff)
    return worst


def serve_from_onnx(path: str, cfg: dict):
    """A HyperSAGNNServe whose weights are the initializers of a model.onnx written by export_onnx
    (torch's graph and fuse.py's both keep them under the state_dict names, unchanged); cfg: the
    card's training.architecture. For models whose model.pt is not kept (wordnet)."""
    import onnx
    from onnx import numpy_helper
    init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(path).graph.initializer}
    model = HyperSAGNNServe(cfg["num_nodes"], cfg["dim"], cfg["hidden"], cfg["heads"], cfg.get("members", 1),
                            bool(cfg.get("table_fp16", False)), **head_kwargs(cfg))
    state = model.state_dict()
    missing = [k for k in state if k not in init]
    assert not missing, f"{path}: no initializer for {missing[:5]}"
    model.load_state_dict({k: init[k] for k in state})
    model.eval()
    return model
