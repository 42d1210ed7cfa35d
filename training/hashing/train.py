"""Train one narrow ResNet with a 48-bit and a 64-bit tanh hash head jointly (CSQ loss).

Usage (from the repository root):
  nice -n 10 /usr/bin/python3 training/hashing/train.py --epochs 15 --seed 0
Writes models/hash-cifar10-{48,64}bit/1/model.pt (backbone + that head) and
.cache/hashing/joint.pt (both heads).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


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
    out = xpad[idx[:, None, None, None], torch.arange(3)[None, :, None, None],
               rows[:, None, :, None], cols[:, None, None, :]]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--epochs', type=int, default=15)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--wd', type=float, default=5e-4)
    ap.add_argument('--lam-q', type=float, default=1e-4)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--limit-steps', type=int, default=0, help='debug: stop after N steps')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    x, y = common.load_split('train')
    xpad = F.pad(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), (4, 4, 4, 4))  # uint8
    y = torch.from_numpy(y)
    mean = torch.tensor(common.MEAN).view(1, 3, 1, 1) * 255
    std = torch.tensor(common.STD).view(1, 3, 1, 1) * 255
    N = y.numel()

    bits = (48, 64)
    centers = {b: common.hash_centers(b) for b in bits}
    net = common.HashNet(bits=bits).to(memory_format=torch.channels_last)
    nparams = sum(p.numel() for p in net.parameters())
    print(f'params {nparams}', flush=True)
    decay = [p for n, p in net.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in net.named_parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{'params': decay, 'weight_decay': args.wd},
                           {'params': no_decay, 'weight_decay': 0}],
                          lr=args.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = N // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch,
        pct_start=0.25, div_factor=10, final_div_factor=100)

    t0 = time.time()
    step = 0
    for ep in range(args.epochs):
        net.train()
        perm = torch.randperm(N, generator=gen)
        te = time.time()
        s_loss = s_acc = s_n = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * args.batch:(i + 1) * args.batch]
            xb = augment(xpad, idx, gen).float().sub_(mean).div_(std)
            xb = xb.contiguous(memory_format=torch.channels_last)
            yb = y[idx]
            out = net(xb)
            loss = 0
            for b in bits:
                l, _, _ = csq_loss(out[b], centers[b][yb], args.lam_q)
                loss = loss + l
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            with torch.no_grad():
                pred = (out[64] @ centers[64].t()).argmax(1)
                s_acc += (pred == yb).float().sum().item()
                s_loss += loss.item() * yb.numel()
                s_n += yb.numel()
            if (i + 1) % 100 == 0:
                el = time.time() - te
                print(f'ep {ep + 1} step {i + 1}/{steps_per_epoch} loss {s_loss / s_n:.4f} '
                      f'train-acc(nearest centre, 64b) {s_acc / s_n:.4f} lr {sched.get_last_lr()[0]:.4f} '
                      f'{s_n / el:.0f} img/s', flush=True)
            if args.limit_steps and step >= args.limit_steps:
                break
        print(f'== epoch {ep + 1}/{args.epochs} loss {s_loss / s_n:.4f} train-acc {s_acc / s_n:.4f} '
              f'epoch {time.time() - te:.0f}s total {time.time() - t0:.0f}s', flush=True)
        if args.limit_steps and step >= args.limit_steps:
            break

    net.eval()
    net = net.to(memory_format=torch.contiguous_format)
    os.makedirs(os.path.join(common.ROOT, '.cache', 'hashing'), exist_ok=True)
    torch.save(net.state_dict(), os.path.join(common.ROOT, '.cache', 'hashing', 'joint.pt'))
    for b in bits:
        single = common.HashNet(bits=(b,))
        sd = {k: v for k, v in net.state_dict().items()
              if not k.startswith('heads.') or k.startswith(f'heads.{b}.')}
        single.load_state_dict(sd)
        d = os.path.join(common.ROOT, 'models', f'hash-cifar10-{b}bit', '1')
        os.makedirs(d, exist_ok=True)
        torch.save({k: v.contiguous() for k, v in single.state_dict().items()},
                   os.path.join(d, 'model.pt'))
    info = {'epochs': args.epochs, 'seed': args.seed, 'batch': args.batch, 'lr': args.lr,
            'wd': args.wd, 'lam_q': args.lam_q, 'params_joint': nparams,
            'train_seconds': round(time.time() - t0, 1), 'final_train_loss': s_loss / s_n,
            'final_train_acc_nearest_centre_64': s_acc / s_n,
            'command': 'nice -n 10 /usr/bin/python3 training/hashing/train.py ' + ' '.join(sys.argv[1:])}
    with open(os.path.join(common.ROOT, '.cache', 'hashing', 'train_info.json'), 'w') as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info), flush=True)


if __name__ == '__main__':
    main()
