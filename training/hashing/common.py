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


# ---------------------------------------------------------------- model: pretrained CIFAR ResNet
PRETRAINED_DIR = os.path.join(ROOT, '..', 'shared', 'data', 'pretrained', 'resnet-cifar10')
PRETRAINED_FILES = {20: 'resnet20-12fca82f.th', 32: 'resnet32-d509ac18.th',
                    44: 'resnet44-014dd654.th', 56: 'resnet56-4bfd9763.th'}
# The pretrained weights were trained on inputs normalised with the ImageNet statistics.
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class CifarBlock(nn.Module):
    """He et al.'s CIFAR basic block with the parameter-free "option A" shortcut: subsample
    by 2 and zero-pad the new channels (that is what the pretrained weights were trained with)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride = stride
        if stride != 1 or cin != cout:
            # x[:, :, ::2, ::2] with (cout - cin) / 2 zero channels either side, written as a fixed
            # 1x1 stride-2 convolution with a 0/1 weight: the same numbers, and an ONNX graph of
            # plain Conv nodes (slicing + channel padding exports as a dynamic Shape/Pad chain).
            pad = (cout - cin) // 2
            w = torch.zeros(cout, cin, 1, 1)
            w[torch.arange(cin) + pad, torch.arange(cin)] = 1
            self.register_buffer('shortcut_weight', w, persistent=False)
        else:
            self.shortcut_weight = None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x if self.shortcut_weight is None else F.conv2d(x, self.shortcut_weight, stride=self.stride)
        return F.relu(out + short)


class SingleHead(nn.Module):
    """Export/inference wrapper: image -> tanh code for one bit length.

    With flip_average (the served models), the backbone features of the image and of its
    mirror image are averaged before the hash head: chosen on validation (ResNet-20 fine-tuned
    3 epochs: tie-averaged val mAP 0.888 -> 0.909 at 48 bits, 0.877 -> 0.901 at 64), it makes a
    code depend less on which way an object faces, at twice the backbone cost. Both halves run
    as one batch of 2B images.
    """

    def __init__(self, net, bits, flip_average=True):
        super().__init__()
        self.net = net
        self.bits = bits
        self.flip_average = flip_average
        self.register_buffer('mirror', torch.arange(31, -1, -1), persistent=False)

    def pooled_features(self, image):
        """Backbone features of the image (averaged with its mirror image's with flip_average)."""
        if not self.flip_average:
            return self.net.features(image)
        both = torch.cat([image, image.index_select(3, self.mirror)], 0)
        # [2B, F] -> [2, B, F] -> mean over the pair; constant shapes keep the ONNX graph static.
        return self.net.features(both).reshape(2, -1, self.net.feat_dim).mean(0)

    def forward(self, image):
        return torch.tanh(self.net.heads[str(self.bits)](self.pooled_features(image)))


class CifarResNetHash(nn.Module):
    """CIFAR ResNet-(6n+2) backbone (16-32-64 channels) + one tanh hash head per bit length."""

    def __init__(self, depth=56, bits=(48, 64)):
        super().__init__()
        n = (depth - 2) // 6
        self.depth = depth
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for stage, w in enumerate((16, 32, 64)):
            blocks = []
            for j in range(n):
                blocks.append(CifarBlock(cin, w, 2 if (j == 0 and stage > 0) else 1))
                cin = w
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.feat_dim = 64
        self.bits = list(bits)
        self.heads = nn.ModuleDict({str(b): nn.Linear(64, b) for b in bits})

    def features(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    def forward(self, x):
        f = self.features(x)
        return {b: torch.tanh(self.heads[str(b)](f)) for b in self.bits}


def load_pretrained_backbone(depth):
    """(backbone state_dict without the classifier, classifier {weight, bias}) of the shared
    pretrained CIFAR-10 ResNet; keys lose the `module.` prefix of the DataParallel pickle."""
    blob = torch.load(os.path.join(PRETRAINED_DIR, PRETRAINED_FILES[depth]), map_location='cpu')
    sd = {k.removeprefix('module.'): v for k, v in blob['state_dict'].items()}
    classifier = {k.removeprefix('linear.'): sd.pop(k) for k in list(sd) if k.startswith('linear.')}
    return sd, classifier


def normalise_uint8(x_uint8_nhwc, mean, std):
    """uint8 NHWC -> float32 NCHW, (x/255 - mean)/std with the given statistics."""
    x = torch.as_tensor(x_uint8_nhwc).permute(0, 3, 1, 2).float().div_(255.0)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def tie_averaged_ap(q_codes, q_labels, db_codes, db_labels, chunk=250):
    """mAP@ALL where each group of database items at equal Hamming distance is counted as its
    expected precision over every order of the group (McSherry & Najork, ECIR 2008), so the
    figure does not depend on how ties are broken (the API breaks them by insertion order).

    For a group of g items holding r relevant ones, after n0 items holding R0 relevant:
    position k of the group is relevant with probability r/g, and then the group's earlier
    k-1 positions hold (k-1)(r-1)/(g-1) relevant items on average, so the group adds
    sum_k (r/g)(R0 + 1 + (k-1)(r-1)/(g-1)) / (n0 + k) = (r/g)[b g + (a - b(n0+1))(H(n0+g) - H(n0))]
    with a = R0 + 1, b = (r-1)/(g-1) (0 when g = 1), H the harmonic numbers.
    Returns (mean AP, per-query AP array).
    """
    q = torch.as_tensor(np.asarray(q_codes), dtype=torch.float32)
    d = torch.as_tensor(np.asarray(db_codes), dtype=torch.float32)
    nbits, N = q.shape[1], d.shape[0]
    ql = torch.as_tensor(np.asarray(q_labels))
    dl = torch.as_tensor(np.asarray(db_labels))
    H = torch.cat([torch.zeros(1, dtype=torch.float64),
                   torch.cumsum(1.0 / torch.arange(1, N + 1, dtype=torch.float64), 0)])
    qs, ds = 2 * q - 1, 2 * d - 1
    aps = []
    for s in range(0, q.shape[0], chunk):
        ham = ((nbits - qs[s:s + chunk] @ ds.t()) / 2).round().to(torch.int64)
        rel = (dl[None, :] == ql[s:s + chunk, None]).to(torch.float64)
        B = ham.shape[0]
        g = torch.zeros(B, nbits + 1, dtype=torch.float64).scatter_add_(1, ham, torch.ones_like(rel))
        r = torch.zeros(B, nbits + 1, dtype=torch.float64).scatter_add_(1, ham, rel)
        n0 = torch.cumsum(g, 1) - g
        R0 = torch.cumsum(r, 1) - r
        a = R0 + 1
        b = torch.where(g > 1, (r - 1) / (g - 1).clamp(min=1), torch.zeros_like(g))
        n0i, gi = n0.to(torch.int64), g.to(torch.int64)
        harm = H[n0i + gi] - H[n0i]
        contrib = torch.where(g > 0, (r / g.clamp(min=1)) * (b * g + (a - b * (n0 + 1)) * harm),
                              torch.zeros_like(g))
        aps.append(contrib.sum(1) / r.sum(1).clamp(min=1))
    ap = torch.cat(aps)
    return ap.mean().item(), ap.numpy()


# ---------------------------------------------------------------- training pieces
def csq_loss(h, centers, lam_q):
    """Central similarity quantisation: BCE of (h+1)/2 to the class centre, plus
    lam_q * quantisation loss (|h| - 1)^2 (Yuan et al., CVPR 2020)."""
    p = ((h + 1) / 2).clamp(1e-6, 1 - 1e-6)
    t = (centers + 1) / 2
    center = F.binary_cross_entropy(p, t)
    quant = (h.abs() - 1).pow(2).mean()
    return center + lam_q * quant, center.item(), quant.item()


def augment(xpad, idx, gen):
    """Random 32x32 crop from the 4-px zero-padded 40x40 uint8 images + horizontal flip,
    vectorised with one advanced-indexing gather. xpad: uint8 [N,3,40,40]."""
    B = idx.numel()
    oy = torch.randint(0, 9, (B,), generator=gen)
    ox = torch.randint(0, 9, (B,), generator=gen)
    flip = torch.rand(B, generator=gen) < 0.5
    ar = torch.arange(32)
    rows = oy[:, None] + ar[None]
    cols = torch.where(flip[:, None], ox[:, None] + (31 - ar)[None], ox[:, None] + ar[None])
    return xpad[idx[:, None, None, None], torch.arange(3)[None, :, None, None],
                rows[:, None, :, None], cols[:, None, None, :]]
