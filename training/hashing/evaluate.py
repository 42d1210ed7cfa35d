"""mAP@ALL of a saved hashing model on CIFAR-10.

Protocol: queries = all 5,000 test images, database = all 50,000 train images
(order: class index, then file name); codes: bit = 1 iff tanh output > 0;
Hamming distance; relevant = same class; AP over the whole ranked list;
mAP = mean over queries. Two figures: ties broken by database index ascending (what
the API's ranking does: oldest first), and tie-averaged (each group of equal distances
counted as its expected precision over all its orders; common.tie_averaged_ap), which does
not depend on upload order (the database is in class order, so index-order tie breaking
correlates with class).

Usage (from the repository root):
  /usr/bin/python3 training/hashing/evaluate.py --bits 48,64 --subset 200,20
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
def encode(model, x_uint8, stats, batch=500):
    """Pooled backbone features [N, F] (the input of the hash heads)."""
    outs = []
    for s in range(0, len(x_uint8), batch):
        xb = common.normalise_uint8(x_uint8[s:s + batch], *stats).contiguous(memory_format=torch.channels_last)
        outs.append(model.pooled_features(xb))
    return torch.cat(outs)


def load_model(bits, path=None, version='2'):
    """(SingleHead model in eval mode, path, (mean, std)) of a served hashing model version:
    the fine-tuned pretrained CIFAR ResNet, saved as {'depth', 'state_dict'}, fed with the
    ImageNet statistics its backbone was trained with."""
    path = path or os.path.join(common.ROOT, 'models', f'hash-cifar10-{bits}bit', version, 'model.pt')
    blob = torch.load(path, map_location='cpu')
    net = common.CifarResNetHash(blob['depth'], bits=(bits,))
    net.load_state_dict(blob['state_dict'])
    model = common.SingleHead(net, bits).eval().to(memory_format=torch.channels_last)
    return model, path, (common.IMAGENET_MEAN, common.IMAGENET_STD)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bits', required=True, help='48, 64 or 48,64 (one backbone pass for both)')
    ap.add_argument('--version', default='2', help='model version under models/hash-cifar10-<bits>bit/')
    ap.add_argument('--model', default=None, help='checkpoint path (default models/hash-cifar10-<bits>bit/<version>/model.pt)')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--limit', type=int, default=0, help='debug: use only every k-th image')
    ap.add_argument('--subset', default='', metavar='DB,Q',
                    help="also score the CI subset: the first DB train and first Q test images of every class "
                         "(file-name order), as test/hashing-quality.e2e-spec.ts uploads them (e.g. 200,20)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    bits_list = [int(b) for b in args.bits.split(',')]
    models = {b: load_model(b, args.model, args.version) for b in bits_list}
    first = models[bits_list[0]][0]
    backbone = {k: v for k, v in first.net.state_dict().items() if not k.startswith('heads.')}
    for b, (m, _, _) in models.items():  # the heads share one backbone, so it runs once
        assert all(torch.equal(v, m.net.state_dict()[k]) for k, v in backbone.items()), f'{b}-bit backbone differs'
    stats = models[bits_list[0]][2]
    xq, yq = common.load_split('test')
    xd, yd = common.load_split('train')
    if args.limit:
        xq, yq, xd, yd = xq[::args.limit], yq[::args.limit], xd[::args.limit], yd[::args.limit]
    fq = encode(first, xq, stats)
    fd = encode(first, xd, stats)
    t_enc = time.time() - t0
    for bits in bits_list:
        model, path, _ = models[bits]
        with torch.no_grad():
            hq = torch.tanh(model.net.heads[str(bits)](fq)).numpy()
            hd = torch.tanh(model.net.heads[str(bits)](fd)).numpy()
        res = score(bits, hq, yq, hd, yd, args.subset)
        res.update({'model': os.path.relpath(path, common.ROOT), 'flipAverage': model.flip_average,
                    'encodeSeconds': round(t_enc, 1), 'totalSeconds': round(time.time() - t0, 1)})
        if not args.limit:
            out = os.path.join(common.ROOT, '.cache', 'hashing', f'metrics-v{args.version}-{bits}.json')
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, 'w') as f:
                json.dump(res, f, indent=1)
        print(json.dumps(res), flush=True)


def score(bits, hq, yq, hd, yd, subset):
    """The card's figures from tanh outputs of queries (hq) and database (hd)."""
    bq = (hq > 0).astype(np.uint8)
    bd = (hd > 0).astype(np.uint8)
    mAP = common.map_at_all(bq, yq, bd, yd)
    tie_map, _ = common.tie_averaged_ap(bq, yq, bd, yd)
    # diagnostics (not used for any selection)
    C = common.hash_centers(bits).numpy()
    acc = float(((hq @ C.T).argmax(1) == yq).mean())
    res = {'mapAtAll': round(mAP, 4), 'mapAtAllExact': mAP,
           'mapAtAllTieAveraged': round(tie_map, 4), 'mapAtAllTieAveragedExact': tie_map, 'queries': int(len(yq)),
           'database': int(len(yd)), 'bits': bits,
           'testNearestCentreAccuracy': round(acc, 4),
           'bitBalanceDb': round(float(bd.mean()), 4),
           'meanAbsOutputTest': round(float(np.abs(hq).mean()), 4)}
    if subset:
        per_db, per_q = (int(v) for v in subset.split(','))
        first = lambda y, k: np.concatenate([np.flatnonzero(y == c)[:k] for c in range(len(common.CLASSES))])  # noqa: E731
        di, qi = first(yd, per_db), first(yq, per_q)
        res['ciSubset'] = {
            'database': int(len(di)), 'queries': int(len(qi)),
            'selection': f'first {per_db} train and first {per_q} test JPEGs of every class (file-name order)',
            'mapAtAllTieAveraged': round(common.tie_averaged_ap(bq[qi], yq[qi], bd[di], yd[di])[0], 4),
            'mapAtAll': round(common.map_at_all(bq[qi], yq[qi], bd[di], yd[di]), 4),
        }
    return res


if __name__ == '__main__':
    main()
