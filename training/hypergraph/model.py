"""Hyper-SAGNN (Zhang, Zou & Ma, ICLR 2020), "encoder" variant.

Two modules share the same attention/scoring head:

* ``HyperSAGNNTrain``: node features are computed from each node's co-occurrence
  (incidence) row by an autoencoder (sparse linear encoder + tanh, decoder used only
  for the reconstruction loss).  Trained jointly with the hyperedge loss.
* ``HyperSAGNNServe``: the encoder output of every node is frozen into a constant
  table; the model takes global node indices + a mask.  This is what is exported to
  ONNX (Gather from a constant initializer) and what the throughput benchmark loads.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG_INF = -1e9


class SAGNNHead(nn.Module):
    """Static / dynamic embeddings and the per-node probability p_i.

    x: [B, S, D] node features, mask: [B, S] float (1 real, 0 padding).
    Returns node_prob [B, S] and score [B] (masked mean of node_prob).
    """

    def __init__(self, in_dim: int, hidden: int = 64, heads: int = 4):
        super().__init__()
        assert hidden % heads == 0
        self.hidden = hidden
        self.heads = heads
        self.dh = hidden // heads
        self.inp = nn.Linear(in_dim, hidden)  # shared position-wise layer
        # static embedding: position-wise feed-forward of the node's own features
        self.static = nn.Linear(hidden, hidden)
        # dynamic embedding: multi-head self-attention over the OTHER nodes
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, hidden)
        self.o = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x, mask):
        B = x.shape[0]
        S = x.shape[1]
        h = torch.tanh(self.inp(x))
        s = torch.tanh(self.static(h))
        q = self.q(h).reshape(B, S, self.heads, self.dh).transpose(1, 2)  # B,H,S,dh
        k = self.k(h).reshape(B, S, self.heads, self.dh).transpose(1, 2)
        v = self.v(h).reshape(B, S, self.heads, self.dh).transpose(1, 2)
        att = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(self.dh))  # B,H,S,S
        idx = torch.arange(S, device=x.device)
        not_self = (idx.unsqueeze(1) != idx.unsqueeze(0)).to(x.dtype)  # S,S
        allowed = not_self.unsqueeze(0) * mask.unsqueeze(1)  # B,S(query),S(key)
        att = att + (1.0 - allowed).unsqueeze(1) * NEG_INF
        att = torch.softmax(att, dim=-1)
        d = torch.matmul(att, v).transpose(1, 2).reshape(B, S, self.hidden)
        d = torch.tanh(self.o(d))
        diff = d - s
        logit = self.out(diff * diff).squeeze(-1)  # B,S
        node_prob = torch.sigmoid(logit)
        score = (node_prob * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return node_prob, score


class HyperSAGNNTrain(nn.Module):
    def __init__(self, num_nodes: int, num_types: int, dim: int, hidden: int, heads: int):
        super().__init__()
        self.num_nodes = num_nodes
        # encoder: sparse incidence row (num_nodes wide) -> dim, per-type bias, tanh
        self.enc = nn.EmbeddingBag(num_nodes, dim, mode="sum")
        nn.init.normal_(self.enc.weight, std=1.0 / math.sqrt(dim))
        self.enc_bias = nn.Parameter(torch.zeros(num_types, dim))
        # degree (row sum of the binary incidence row) enters through log1p(deg) * v_type
        self.enc_deg = nn.Parameter(torch.zeros(num_types, dim))
        # decoder (reconstruction only)
        self.dec = nn.Embedding(num_nodes, dim)
        nn.init.normal_(self.dec.weight, std=1.0 / math.sqrt(dim))
        self.dec_bias = nn.Parameter(torch.zeros(num_nodes))
        self.head = SAGNNHead(dim, hidden, heads)

    def encode_sum(self, cols, offsets):
        """Unnormalised sum of encoder columns over each (binary) incidence row."""
        return self.enc(cols, offsets)

    def finish(self, ssum, deg, types, norm: str):
        """ssum: [U,dim] row sums, deg: [U] float row degree (nnz).  norm 'sqrt' scales by 1/sqrt(deg)."""
        if norm == "sqrt":
            ssum = ssum * deg.clamp(min=1.0).rsqrt().unsqueeze(1)
        return torch.tanh(ssum + self.enc_bias[types] + torch.log1p(deg).unsqueeze(1) * self.enc_deg[types])

    def recon_logits(self, z, cols):
        """z: [U, dim], cols: [U, K] -> logits [U, K]."""
        w = self.dec(cols)  # U,K,dim
        return (w * z.unsqueeze(1)).sum(-1) + self.dec_bias[cols]


class HyperSAGNNServe(nn.Module):
    """Frozen node table + head; inputs node_index int64 [B,S], node_mask float32 [B,S]."""

    def __init__(self, num_nodes: int, dim: int, hidden: int, heads: int):
        super().__init__()
        self.table = nn.Parameter(torch.zeros(num_nodes, dim), requires_grad=False)
        self.head = SAGNNHead(dim, hidden, heads)

    def forward(self, node_index, node_mask):
        x = F.embedding(node_index, self.table)
        return self.head(x, node_mask)
