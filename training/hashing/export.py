"""Export models/hash-cifar10-<bits>bit/<version>/model.pt to model.onnx (opset 17, float32),
check the graph, compare it with PyTorch using a small numpy interpreter of the graph,
and write card.json (metrics from training/hashing/evaluate.py's output).

Usage (from the repository root):
  /usr/bin/python3 training/hashing/export.py --bits 48            # version 2
"""
import argparse
import datetime
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from evaluate import load_model  # noqa: E402


def _conv(x, w, b, pads, strides, group=1):
    assert group == 1
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    sh, sw = strides
    Ho = (x.shape[2] - kh) // sh + 1
    Wo = (x.shape[3] - kw) // sw + 1
    out = np.zeros((N, O, Ho, Wo), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw]
            out += np.einsum('nchw,oc->nohw', patch, w[:, :, i, j])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def run_numpy(model, x):
    """Minimal float64 interpreter for the ops this exporter emits."""
    env = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    env[model.graph.input[0].name] = x.astype(np.float64)
    for n in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        ins = [env[i] if i else None for i in n.input]
        if n.op_type == 'Conv':
            k = len(ins[1].shape) - 2
            y = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None,
                      a.get('pads', [0] * 2 * k), a.get('strides', [1] * k), a.get('group', 1))
        elif n.op_type == 'Relu':
            y = np.maximum(ins[0], 0)
        elif n.op_type == 'Add':
            y = ins[0] + ins[1]
        elif n.op_type == 'GlobalAveragePool':
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif n.op_type == 'ReduceMean':  # opset 17: axes is an attribute
            y = ins[0].mean(axis=tuple(a['axes']), keepdims=bool(a.get('keepdims', 1)))
        elif n.op_type == 'Gather':  # the mirror image: columns in reverse order
            y = np.take(ins[0], ins[1].astype(np.int64), axis=a.get('axis', 0))
        elif n.op_type == 'Concat':
            y = np.concatenate(ins, axis=a['axis'])
        elif n.op_type == 'Reshape':
            shape = ins[1].astype(np.int64).copy()
            shape[shape == 0] = np.array(ins[0].shape)[np.flatnonzero(shape == 0)]
            y = ins[0].reshape(tuple(shape))
        elif n.op_type == 'Flatten':
            y = ins[0].reshape(ins[0].shape[0], -1)
        elif n.op_type == 'Gemm':
            A, B = ins[0], ins[1]
            if a.get('transA', 0):
                A = A.T
            if a.get('transB', 0):
                B = B.T
            y = a.get('alpha', 1.0) * A @ B + (a.get('beta', 1.0) * ins[2] if len(ins) > 2 else 0)
        elif n.op_type == 'Tanh':
            y = np.tanh(ins[0])
        elif n.op_type == 'Constant':
            y = numpy_helper.to_array(a['value']).astype(np.float64)
        else:
            raise NotImplementedError(n.op_type)
        env[n.output[0]] = y
    return env[model.graph.output[0].name]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bits', type=int, required=True)
    ap.add_argument('--version', default='2')
    args = ap.parse_args()
    torch.set_num_threads(1)
    bits = args.bits
    d = os.path.join(common.ROOT, 'models', f'hash-cifar10-{bits}bit', args.version)
    model, _, (mean, std) = load_model(bits, version=args.version)
    model = model.to(memory_format=torch.contiguous_format).eval()
    onnx_path = os.path.join(d, 'model.onnx')
    dummy = torch.zeros(2, 3, 32, 32)
    torch.onnx.export(model, dummy, onnx_path, opset_version=17, input_names=['image'],
                      output_names=['code'], dynamic_axes={'image': {0: 'batch'}, 'code': {0: 'batch'}},
                      do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL)
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    m = onnx.shape_inference.infer_shapes(m)
    ops = sorted({n.op_type for n in m.graph.node})
    def shape(vi):
        return [dd.dim_param or dd.dim_value for dd in vi.type.tensor_type.shape.dim]
    io = {'inputs': [(i.name, i.type.tensor_type.elem_type, shape(i)) for i in m.graph.input],
          'outputs': [(o.name, o.type.tensor_type.elem_type, shape(o)) for o in m.graph.output]}
    assert io['inputs'] == [('image', onnx.TensorProto.FLOAT, ['batch', 3, 32, 32])], io
    assert io['outputs'] == [('code', onnx.TensorProto.FLOAT, ['batch', bits])], io
    assert all(i.data_type == onnx.TensorProto.FLOAT for i in m.graph.initializer)

    # compare with PyTorch on 16 real test images
    xq, _ = common.load_split('test')
    x = common.normalise_uint8(xq[::313][:16], mean, std)
    with torch.no_grad():
        ref = model(x).numpy()
    got = run_numpy(m, x.numpy())
    maxdiff = float(np.abs(got - ref).max())
    same_bits = bool(((got > 0) == (ref > 0)).all())
    print(json.dumps({'onnx': os.path.relpath(onnx_path, common.ROOT), 'ops': ops, 'io': io,
                      'bytes': os.path.getsize(onnx_path), 'maxAbsDiffVsTorch': maxdiff,
                      'sameBits': same_bits}))
    assert maxdiff < 1e-4 and same_bits

    # card
    cache = os.path.join(common.ROOT, '.cache', 'hashing')
    with open(os.path.join(cache, f'metrics-v{args.version}-{bits}.json')) as f:
        met = json.load(f)
    with open(os.path.join(d, 'training.json')) as f:
        tr = json.load(f)
    assert args.version == '2', 'cards of version 1 are kept as committed'
    sel = tr['selectedEpoch']
    depth = tr['args']['depth']
    val = {str(e['epoch']): e['valMap'][str(bits)] if str(bits) in e['valMap'] else e['valMap'][bits]
           for e in tr['epochs']}
    card = {
        'name': f'hash-cifar10-{bits}bit',
        'version': args.version,
        'task': 'image-hashing',
        'bits': bits,
        'licence': 'backbone weights: BSD-2 (../shared/data/pretrained/resnet-cifar10/LICENSE)',
        'description': (f'{bits}-bit deep hash for CIFAR-10-like 32x32 RGB images: the CIFAR ResNet-{depth} '
                        f'of He et al. (16-32-64 channels, option-A shortcuts), pretrained on CIFAR-10 '
                        f'classification and fine-tuned with central similarity quantisation (CSQ); the '
                        f'features of the image and of its mirror image are averaged before the hash head; '
                        f'outputs tanh codes, bit i = 1 iff code[i] > 0; compare codes by Hamming distance.'),
        'inputs': [{'name': 'image', 'dtype': 'float32', 'shape': ['batch', 3, 32, 32]}],
        'outputs': [{'name': 'code', 'dtype': 'float32', 'shape': ['batch', bits]}],
        'preprocessing': {'width': 32, 'height': 32, 'channels': 'RGB', 'layout': 'NCHW',
                          'resize': 'cover', 'scale': 1 / 255, 'mean': mean, 'std': std},
        'labels': common.CLASSES,
        'metrics': {'mapAtAllTieAveraged': met['mapAtAllTieAveraged'],
                    'mapAtAll': met['mapAtAll'], 'queries': met['queries'], 'database': met['database'],
                    'bits': bits,
                    'protocol': ('queries = all 5,000 CIFAR-10 test JPEGs, database = all 50,000 train '
                                 'JPEGs (the training set itself, order class then file name); '
                                 'Hamming distance; relevant = same class; AP over the whole list. '
                                 'mapAtAllTieAveraged (headline): each group of equal distances counted as '
                                 'its expected precision over all its orders, independent of upload order. '
                                 'mapAtAll: ties broken by database index, oldest first, as the API ranks.'),
                    'testNearestCentreAccuracy': met['testNearestCentreAccuracy'],
                    'ciSubset': met['ciSubset'],
                    'command': f'/usr/bin/python3 training/hashing/evaluate.py --bits {bits} --version {args.version} --subset 200,20',
                    'machine': 'CPU, 2 cores (dev box)'},
        'training': {
            'data': ('CIFAR-10 JPEG re-encode, ../shared/data/cifar10/cifar10-train.tar.gz: 45,000 train images '
                     'for fine-tuning; the last 500 of each class (file-name order) held out as validation '
                     'queries against the 45,000 to choose the epoch. The test set was not used for any choice.'),
            'command': tr['command'],
            'epochs': tr['args']['epochs'],
            'selectedEpoch': sel,
            'validationMapTieAveragedByEpoch': val,
            'flipAverageValidation': tr['flipAverageValidation'],
            'seed': tr['args']['seed'],
            'notes': (f"Backbone: CIFAR ResNet-{depth} pretrained on the 50,000 CIFAR-10 training images "
                      f"(PNG originals; its authors chose the epoch on the test set, so its 'test accuracy' is "
                      f"optimistic; the pretrained net also saw our validation images). Our JPEG re-encode costs "
                      f"the frozen net about 10 points of accuracy, hence end-to-end fine-tuning. Hash heads "
                      f"initialised from the pretrained classifier (tanh(0.5 C^T logits), C = CSQ centres), "
                      f"trained jointly for 48 and 64 bits, split afterwards. CSQ loss = BCE((h+1)/2,(c+1)/2) + "
                      f"{tr['args']['lam_q']} * mean((|h|-1)^2), centres = Hadamard rows (bits/2 apart). "
                      f"Augmentation: random crop of the 4-px zero-padded image + horizontal flip. SGD nesterov "
                      f"momentum 0.9, batch {tr['args']['batch']}, weight decay {tr['args']['wd']}, OneCycle max "
                      f"lr {tr['args']['lr']}. Flip averaging (features of the image and its mirror averaged "
                      f"before the head, one batch of 2B in the graph) chosen on validation: see "
                      f"flipAverageValidation. Export: eval mode, opset 17, BatchNorm folded into Conv. model.pt is "
                      f"{{'depth', 'state_dict'}} of training/hashing/common.py CifarResNetHash(bits=({bits},)).")},
        'createdAt': datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace('+00:00', 'Z'),
    }
    with open(os.path.join(d, 'card.json'), 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')
    print('wrote', os.path.join(d, 'card.json'))


if __name__ == '__main__':
    main()
