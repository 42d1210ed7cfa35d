"""Throughput of the PyTorch hashing model: JPEG decode (PIL) + normalise + forward.

Usage (from the repository root):
  /usr/bin/python3 bench/hashing/pytorch_encode.py --bits 48 --n 2000 --threads 1
  /usr/bin/python3 bench/hashing/pytorch_encode.py --bits 64 --files a.jpg b.jpg ...
Without --files it takes the first N JPEGs (sorted) under .cache/cifar10/test
(extracted from ../shared/data/cifar10/cifar10-test.tar.gz if missing).
Prints JSON {imagesPerSecond, n, batch, threads, ...}.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'training', 'hashing'))
import common  # noqa: E402
from evaluate import load_model  # noqa: E402


def list_files(n):
    d = os.path.join(common.CACHE_DIR, 'test')
    if not os.path.isdir(d):
        common.load_split('test')  # extracts the archive
    files = [os.path.join(d, c, f) for c in common.CLASSES for f in sorted(os.listdir(os.path.join(d, c)))]
    return files[:n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bits', type=int, default=48, choices=[48, 64])
    ap.add_argument('--version', default='2', help='model version under models/hash-cifar10-<bits>bit/')
    ap.add_argument('--model', default=None)
    ap.add_argument('--files', nargs='*', default=None)
    ap.add_argument('--n', type=int, default=2000)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--warmup', type=int, default=2, help='untimed warm-up batches')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, _, (mean, std) = load_model(args.bits, args.model, args.version)
    model = model.to(memory_format=torch.contiguous_format)
    files = args.files if args.files else list_files(args.n)
    n = len(files)
    mean = torch.tensor(mean).view(1, 3, 1, 1)
    std = torch.tensor(std).view(1, 3, 1, 1)

    def encode(batch_files):
        arr = []
        for f in batch_files:
            with Image.open(f) as im:
                im = im.convert('RGB')
                if im.size != (32, 32):  # 'cover' resize: scale short side to 32, centre crop
                    w, h = im.size
                    s = 32 / min(w, h)
                    im = im.resize((max(32, round(w * s)), max(32, round(h * s))), Image.BILINEAR)
                    l, t = (im.size[0] - 32) // 2, (im.size[1] - 32) // 2
                    im = im.crop((l, t, l + 32, t + 32))
                arr.append(np.asarray(im, dtype=np.uint8))
        x = torch.from_numpy(np.stack(arr)).permute(0, 3, 1, 2).float().div_(255)
        x = (x - mean) / std
        with torch.no_grad():
            return model(x)

    with torch.no_grad():
        for _ in range(args.warmup):
            encode(files[:args.batch])
    t0 = time.perf_counter()
    out = []
    for s in range(0, n, args.batch):
        out.append(encode(files[s:s + args.batch]))
    dt = time.perf_counter() - t0
    codes = torch.cat(out)
    assert codes.shape == (n, args.bits)
    print(json.dumps({'imagesPerSecond': round(n / dt, 1), 'n': n, 'batch': args.batch,
                      'threads': args.threads, 'bits': args.bits, 'seconds': round(dt, 3),
                      'torch': torch.__version__}))


if __name__ == '__main__':
    main()
