import type { Shape3 } from './grid.js';

/**
 * 6-connected components of the voxels where mask[i] is true (the face-neighbour structure
 * scipy.ndimage.label uses by default in 3D). Returns component ids (0 = outside, 1..count)
 * and each component's size, index 0 unused.
 */
export function connectedComponents(mask: (i: number) => boolean, shape: Shape3): { ids: Int32Array; sizes: number[] } {
  const [nz, ny, nx] = shape;
  const n = nz * ny * nx;
  const plane = ny * nx;
  const ids = new Int32Array(n);
  const queue = new Int32Array(n);
  const sizes: number[] = [0];
  for (let seed = 0; seed < n; seed++) {
    if (ids[seed] !== 0 || !mask(seed)) continue;
    const id = sizes.length;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    ids[seed] = id;
    while (head < tail) {
      const v = queue[head++];
      const x = v % nx;
      const y = Math.floor(v / nx) % ny;
      const z = Math.floor(v / plane);
      const visit = (u: number) => {
        if (ids[u] === 0 && mask(u)) {
          ids[u] = id;
          queue[tail++] = u;
        }
      };
      if (x > 0) visit(v - 1);
      if (x < nx - 1) visit(v + 1);
      if (y > 0) visit(v - nx);
      if (y < ny - 1) visit(v + nx);
      if (z > 0) visit(v - plane);
      if (z < nz - 1) visit(v + plane);
    }
    sizes.push(tail);
  }
  return { ids, sizes };
}

/**
 * Per label in `labels`: keeps its largest component and every component of at least
 * `minVoxels`; everything else becomes background. Returns a new array.
 */
export function filterComponents(labels: Uint8Array, shape: Shape3, labelIds: number[], minVoxels = Number.POSITIVE_INFINITY): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (const label of labelIds) {
    const { ids, sizes } = connectedComponents((i) => labels[i] === label, shape);
    if (sizes.length <= 1) continue;
    let largest = 1;
    for (let c = 2; c < sizes.length; c++) if (sizes[c] > sizes[largest]) largest = c;
    const keep = sizes.map((size, c) => c === largest || (c > 0 && size >= minVoxels));
    for (let i = 0; i < ids.length; i++) if (ids[i] !== 0 && keep[ids[i]]) out[i] = label;
  }
  return out;
}
