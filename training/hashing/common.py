"""Shared pieces for the CIFAR-10 deep-hashing models (data cache, model, metric)."""
import os
import tarfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DATA_DIR = os.path.join(ROOT, '..', 'shared', 'data', 'cifar10')
CACHE_DIR = os.path.join(ROOT, '.cache', 'cifar10')
CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer',
           'dog', 'frog', 'horse', 'ship', 'truck']
# Per-channel statistics of the 50,000 training JPEGs (pixel/255), computed by
# load_split('train') and fixed here so the ONNX contract does not drift.
MEAN = [0.4913, 0.4821, 0.4465]
STD = [0.2452, 0.2428, 0.2606]


def load_split(split):
    """Return (images uint8 [N,32,32,3], labels int64 [N]) for 'train' or 'test'.

    Order (= database order for the metric): class index ascending, then file
    name ascending.  Decoded once with PIL and cached as .npy.
    """
    os.makedirs(CACHE_DIR, exist_ok=True)
    xp = os.path.join(CACHE_DIR, f'{split}_x.npy')
    yp = os.path.join(CACHE_DIR, f'{split}_y.npy')
    if os.path.exists(xp) and os.path.exists(yp):
        return np.load(xp), np.load(yp)
    from PIL import Image
    split_dir = os.path.join(CACHE_DIR, split)
    if not os.path.isdir(split_dir):
        with tarfile.open(os.path.join(DATA_DIR, f'cifar10-{split}.tar.gz')) as tf:
            tf.extractall(CACHE_DIR)
    xs, ys = [], []
    for ci, c in enumerate(CLASSES):
        d = os.path.join(split_dir, c)
        for fn in sorted(os.listdir(d)):
            with Image.open(os.path.join(d, fn)) as im:
                xs.append(np.asarray(im.convert('RGB'), dtype=np.uint8))
            ys.append(ci)
    x = np.stack(xs)
    y = np.asarray(ys, dtype=np.int64)
    assert x.shape[1:] == (32, 32, 3), x.shape
    np.save(xp, x)
    np.save(yp, y)
    return x, y


# ---------------------------------------------------------------- model
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.short is None else self.short(x)))


class HashNet(nn.Module):
    """Narrow ResNet backbone + one tanh hash head per bit length."""

    def __init__(self, widths=(32, 64, 128), blocks=(1, 1, 1), bits=(48, 64)):
        super().__init__()
        w0 = widths[0]
        self.stem = nn.Sequential(nn.Conv2d(3, w0, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(w0), nn.ReLU(inplace=True))
        layers, cin = [], w0
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.feat_dim = cin
        self.bits = list(bits)
        self.heads = nn.ModuleDict({str(b): nn.Linear(cin, b) for b in bits})

    def features(self, x):
        x = self.layers(self.stem(x))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    def forward(self, x):
        f = self.features(x)
        return {b: torch.tanh(self.heads[str(b)](f)) for b in self.bits}


class SingleHead(nn.Module):
    """Export/inference wrapper: image -> tanh code for one bit length."""

    def __init__(self, net, bits):
        super().__init__()
        self.net = net
        self.bits = bits

    def forward(self, image):
        return torch.tanh(self.net.heads[str(self.bits)](self.net.features(image)))


def normalise_uint8(x_uint8_nhwc):
    """uint8 NHWC numpy/tensor -> float32 NCHW normalised tensor."""
    x = torch.as_tensor(x_uint8_nhwc).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


# ---------------------------------------------------------------- metric
def map_at_all(q_codes, q_labels, db_codes, db_labels, chunk=250):
    """mAP over the whole ranked database.

    codes: {0,1} arrays (bit = 1 iff output > 0).  Hamming distance, ranking by
    distance ascending with ties broken by database index ascending (stable
    sort); relevant = same label; AP = mean of precision at each relevant
    position over the whole list; mAP = mean over queries.
    """
    q = torch.as_tensor(np.asarray(q_codes), dtype=torch.float32)
    d = torch.as_tensor(np.asarray(db_codes), dtype=torch.float32)
    nbits = q.shape[1]
    ql = torch.as_tensor(np.asarray(q_labels))
    dl = torch.as_tensor(np.asarray(db_labels))
    # ±1 form: hamming = (nbits - <a,b>) / 2, exact integers in float32
    qs, ds = 2 * q - 1, 2 * d - 1
    ranks = torch.arange(1, d.shape[0] + 1, dtype=torch.float64)
    aps = []
    for s in range(0, q.shape[0], chunk):
        ham = ((nbits - qs[s:s + chunk] @ ds.t()) / 2).round().to(torch.int64)
        # stable: key = distance * N + index  -> unique keys, so any sort is stable
        key = ham * d.shape[0] + torch.arange(d.shape[0])
        order = torch.argsort(key, dim=1)
        rel = (dl[order] == ql[s:s + chunk, None]).to(torch.float64)
        cum = torch.cumsum(rel, dim=1)
        nrel = rel.sum(1)
        ap = (cum / ranks * rel).sum(1) / nrel.clamp(min=1)
        aps.append(ap)
    return torch.cat(aps).mean().item()


# ---------------------------------------------------------------- hash centres
def paley_hadamard(q):
    """Paley construction I: Hadamard matrix of order q+1 for prime q = 3 mod 4."""
    chi = np.full(q, -1, dtype=np.int64)
    chi[0] = 0
    for a in range(1, q):
        chi[(a * a) % q] = 1
    Q = np.array([[chi[(j - i) % q] for j in range(q)] for i in range(q)])
    S = np.zeros((q + 1, q + 1), dtype=np.int64)
    S[0, 1:] = 1
    S[1:, 0] = -1
    S[1:, 1:] = Q
    return S + np.eye(q + 1, dtype=np.int64)


def hadamard(n):
    """Hadamard matrix of order n (powers of 2 via Sylvester, or 2^k * 24 via Paley(23))."""
    if n & (n - 1) == 0:
        H = np.ones((1, 1), dtype=np.int64)
    elif n % 24 == 0 and (n // 24) & (n // 24 - 1) == 0:
        H = paley_hadamard(23)
    else:
        raise ValueError(f'no Hadamard construction for {n}')
    while H.shape[0] < n:
        H = np.block([[H, H], [H, -H]])
    assert (H @ H.T == n * np.eye(n, dtype=np.int64)).all()
    return H


def hash_centers(bits, n_classes=len(CLASSES)):
    """CSQ hash centres: rows of a Hadamard matrix (pairwise Hamming distance bits/2).

    Row 0 of the Sylvester matrix is all ones, so rows 1..n_classes are used.
    """
    H = hadamard(bits)
    C = H[1:n_classes + 1].astype(np.float32)
    d = (bits - C @ C.T) / 2
    assert (d[~np.eye(n_classes, dtype=bool)] == bits / 2).all()
    return torch.from_numpy(C)
