import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// Also compiled into dist/ for the benches (bench/hashing/support.ts): the repository root is
// one level further up there.
const ROOT = path.resolve(import.meta.dirname, '..', '..', ...(import.meta.dirname.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []));
const SHARED_DATA = path.resolve(ROOT, '..', 'shared', 'data');

export const CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export type LabelledFile = { file: string; label: number; name: string };

/**
 * The first `perClass` JPEGs of every class (file-name order) of a split of the shared CIFAR-10
 * re-encode, in class order — the same subset `training/hashing/evaluate.py --subset` scores.
 * The archive is extracted once into .cache/cifar10 (as the training scripts do).
 */
export function cifarFiles(split: 'train' | 'test', perClass = Infinity): LabelledFile[] {
  const cache = path.join(ROOT, '.cache', 'cifar10');
  const dir = path.join(cache, split);
  if (!fs.existsSync(path.join(dir, CIFAR_CLASSES[CIFAR_CLASSES.length - 1]))) {
    fs.mkdirSync(cache, { recursive: true });
    execFileSync('tar', ['xzf', path.join(SHARED_DATA, 'cifar10', `cifar10-${split}.tar.gz`), '-C', cache]);
  }
  return CIFAR_CLASSES.flatMap((c, label) =>
    fs
      .readdirSync(path.join(dir, c))
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(0, perClass)
      .map((f) => ({ file: path.join(dir, c, f), label, name: `${split}/${c}/${f}` })),
  );
}
