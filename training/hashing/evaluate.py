"""mAP@ALL of a saved hashing model on CIFAR-10.

Protocol: queries = all 5,000 test images, database = all 50,000 train images
(order: class index, then file name); codes: bit = 1 iff tanh output > 0;
Hamming distance; ranking by distance ascending, ties broken by database index
ascending (stable); relevant = same class; AP over the whole ranked list;
mAP = mean over queries.

Usage (from the repository root):
  /usr/bin/python3 training/hashing/evaluate.py --bits 48
  /usr/bin/python3 training/hashing/evaluate.py --bits 64
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


@torch.no_grad()
def encode(model, x_uint8, batch=500):
    outs = []
    for s in range(0, len(x_uint8), batch):
        xb = common.normalise_uint8(x_uint8[s:s + batch]).contiguous(memory_format=torch.channels_last)
        outs.append(model(xb))
    return torch.cat(outs).numpy()


def load_model(bits, path=None):
    path = path or os.path.join(common.ROOT, 'models', f'hash-cifar10-{bits}bit', '1', 'model.pt')
    net = common.HashNet(bits=(bits,))
    net.load_state_dict(torch.load(path, map_location='cpu'))
    model = common.SingleHead(net, bits).eval().to(memory_format=torch.channels_last)
    return model, path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bits', type=int, required=True)
    ap.add_argument('--model', default=None, help='state_dict path (default models/hash-cifar10-<bits>bit/1/model.pt)')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--limit', type=int, default=0, help='debug: use only every k-th image')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    model, path = load_model(args.bits, args.model)
    xq, yq = common.load_split('test')
    xd, yd = common.load_split('train')
    if args.limit:
        xq, yq, xd, yd = xq[::args.limit], yq[::args.limit], xd[::args.limit], yd[::args.limit]
    hq = encode(model, xq)
    hd = encode(model, xd)
    t_enc = time.time() - t0
    bq = (hq > 0).astype(np.uint8)
    bd = (hd > 0).astype(np.uint8)
    mAP = common.map_at_all(bq, yq, bd, yd)
    # diagnostics (not used for any selection)
    C = common.hash_centers(args.bits).numpy()
    acc = float(((hq @ C.T).argmax(1) == yq).mean())
    res = {'mapAtAll': round(mAP, 4), 'mapAtAllExact': mAP, 'queries': int(len(yq)),
           'database': int(len(yd)), 'bits': args.bits, 'model': os.path.relpath(path, common.ROOT),
           'testNearestCentreAccuracy': round(acc, 4),
           'bitBalanceDb': round(float(bd.mean()), 4),
           'meanAbsOutputTest': round(float(np.abs(hq).mean()), 4),
           'encodeSeconds': round(t_enc, 1), 'totalSeconds': round(time.time() - t0, 1)}
    if not args.limit:
        out = os.path.join(common.ROOT, '.cache', 'hashing', f'metrics-{args.bits}.json')
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, 'w') as f:
            json.dump(res, f, indent=1)
    print(json.dumps(res))


if __name__ == '__main__':
    main()
