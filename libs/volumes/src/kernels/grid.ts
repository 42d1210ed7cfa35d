/** Array shapes are [nz, ny, nx] with x fastest in memory (index = (z * ny + y) * nx + x). */
export type Shape3 = [number, number, number];

export type NumericArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

export function voxelCount(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

/** Size of a grid resampled from `spacingIn` to `spacingOut` (per axis, same order as shape). */
export function resampledShape(shape: Shape3, spacingIn: Shape3, spacingOut: Shape3): Shape3 {
  return shape.map((n, a) => Math.max(1, Math.floor((n * spacingIn[a]) / spacingOut[a] + 0.5))) as Shape3;
}
