import { VolumeError } from './volume-error.js';

/** Geometry of a stored volume as ITK gives it (LPS, direction row-major, column c = axis c). */
export type Geometry = { size: [number, number, number]; spacing: [number, number, number]; origin: [number, number, number]; direction: number[] };

/** The geometry part of anything that has one (a volume, a header). */
export function geometryOf(g: Geometry): Geometry {
  return { size: g.size, spacing: g.spacing, origin: g.origin, direction: g.direction };
}

/** Physical LPS position (mm) of voxel index (i, j, k). */
export function indexToPhysical(g: Geometry, i: number, j: number, k: number): [number, number, number] {
  const a = i * g.spacing[0];
  const b = j * g.spacing[1];
  const c = k * g.spacing[2];
  const d = g.direction;
  return [
    g.origin[0] + d[0] * a + d[1] * b + d[2] * c,
    g.origin[1] + d[3] * a + d[4] * b + d[5] * c,
    g.origin[2] + d[6] * a + d[7] * b + d[8] * c,
  ];
}

/**
 * Differences between two grids, as sentences; empty when they match. Tolerances absorb
 * float32 storage (NIfTI keeps spacing and origin in single precision).
 */
export function gridDifferences(a: Geometry, b: Geometry): string[] {
  const problems: string[] = [];
  const fmt = (v: number[]) => v.map((x) => Number(x.toFixed(4))).join(' × ');
  if (a.size.some((n, i) => n !== b.size[i])) problems.push(`size ${fmt(b.size)} differs from ${fmt(a.size)}`);
  if (a.spacing.some((s, i) => Math.abs(s - b.spacing[i]) > 1e-4 * Math.max(1, Math.abs(s)))) problems.push(`spacing ${fmt(b.spacing)} mm differs from ${fmt(a.spacing)} mm`);
  if (a.origin.some((o, i) => Math.abs(o - b.origin[i]) > 1e-2)) problems.push(`origin ${fmt(b.origin)} differs from ${fmt(a.origin)}`);
  if (a.direction.some((d, i) => Math.abs(d - b.direction[i]) > 1e-4)) problems.push('direction cosines differ');
  return problems;
}

/** Throws the 422 `reference-grid-mismatch` problem unless the reference lies on the image's grid. */
export function assertSameGrid(image: Geometry, reference: Geometry): void {
  const differences = gridDifferences(image, reference);
  if (differences.length) throw new VolumeError('volume.reference-grid-mismatch', `The reference is on another grid than the image: ${differences.join('; ')}`);
}
