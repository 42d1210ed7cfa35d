// NIfTI-1 reading in the browser, no library: gunzip with DecompressionStream, then the
// 348-byte header (either byte order) and the voxel array as a typed array view.

const GZIP_MAGIC = [0x1f, 0x8b];

/** Raw NIfTI bytes from a .nii or .nii.gz ArrayBuffer (gzip recognised by its magic bytes). */
export async function gunzipIfNeeded(buffer) {
  const head = new Uint8Array(buffer, 0, Math.min(2, buffer.byteLength));
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) return buffer;
  if (typeof DecompressionStream === 'undefined') throw new Error('This browser cannot decompress gzip (no DecompressionStream)');
  const stream = new Blob([buffer]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

// NIfTI-1 datatype codes → typed array constructors (complex and RGB are not volumes we show).
const DATATYPES = {
  2: Uint8Array,
  4: Int16Array,
  8: Int32Array,
  16: Float32Array,
  64: Float64Array,
  256: Int8Array,
  512: Uint16Array,
  768: Uint32Array,
};

const DATAVIEW_GETTERS = new Map([
  [Int16Array, 'getInt16'],
  [Uint16Array, 'getUint16'],
  [Int32Array, 'getInt32'],
  [Uint32Array, 'getUint32'],
  [Float32Array, 'getFloat32'],
  [Float64Array, 'getFloat64'],
]);

/**
 * Parses a NIfTI-1 file (already gunzipped). Returns dims (i, j, k), pixdim, the scaling, and
 * `data` as a typed array in the file's index order (i fastest), in the platform's byte order.
 */
export function parseNifti(buffer) {
  if (buffer.byteLength < 348) throw new Error(`Not a NIfTI-1 file: ${buffer.byteLength} bytes is shorter than its 348-byte header`);
  const view = new DataView(buffer);
  let little = true;
  const sizeofHdr = view.getInt32(0, true);
  if (sizeofHdr !== 348) {
    if (view.getInt32(0, false) === 348) little = false;
    else if (sizeofHdr === 540 || view.getInt32(0, false) === 540) throw new Error('NIfTI-2 files are not shown in the browser');
    else throw new Error('Not a NIfTI-1 file (sizeof_hdr is not 348)');
  }
  const magic = String.fromCharCode(...new Uint8Array(buffer, 344, 3));
  if (magic !== 'n+1') throw new Error(`Unsupported NIfTI magic "${magic}" (only single-file .nii is read here)`);
  const ndim = view.getInt16(40, little);
  if (ndim < 1 || ndim > 7) throw new Error(`Bad NIfTI dim[0] = ${ndim}`);
  const dims = [1, 2, 3].map((i) => (i <= ndim ? view.getInt16(40 + 2 * i, little) : 1));
  for (let i = 4; i <= ndim; i++) {
    if (view.getInt16(40 + 2 * i, little) > 1) throw new Error('Only 3D NIfTI volumes are shown (this one has more than one volume)');
  }
  if (dims.some((d) => d < 1)) throw new Error(`Bad NIfTI dimensions ${dims.join(' × ')}`);
  const datatype = view.getInt16(70, little);
  const Type = DATATYPES[datatype];
  if (!Type) throw new Error(`NIfTI datatype ${datatype} is not shown in the browser`);
  const pixdim = [1, 2, 3].map((i) => view.getFloat32(76 + 4 * i, little));
  const voxOffset = Math.round(view.getFloat32(108, little));
  let slope = view.getFloat32(112, little);
  let inter = view.getFloat32(116, little);
  if (!Number.isFinite(slope) || slope === 0) {
    slope = 1;
    inter = 0;
  }
  if (!Number.isFinite(inter)) inter = 0;
  const count = dims[0] * dims[1] * dims[2];
  const bytes = count * Type.BYTES_PER_ELEMENT;
  if (voxOffset < 348 || voxOffset + bytes > buffer.byteLength) {
    throw new Error(`The NIfTI file is truncated: ${dims.join(' × ')} voxels need ${voxOffset + bytes} bytes, it has ${buffer.byteLength}`);
  }
  // Copy so the array is aligned and in the platform's (little-endian) byte order.
  const data = new Type(count);
  const size = Type.BYTES_PER_ELEMENT;
  if (size === 1 || (little && voxOffset % size === 0)) {
    data.set(new Type(buffer, voxOffset, count));
  } else {
    const getter = DATAVIEW_GETTERS.get(Type);
    for (let v = 0, o = voxOffset; v < count; v++, o += size) data[v] = view[getter](o, little);
  }
  return { dims, pixdim, datatype, slope, inter, data };
}

/** Parses the ArrayBuffer of a .nii or a .nii.gz file. */
export async function readNifti(buffer) {
  return parseNifti(await gunzipIfNeeded(buffer));
}
