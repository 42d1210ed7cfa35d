// Pure slice geometry and pixel kernels for the 2D viewer (no DOM): which index axis runs along
// each screen axis of the axial, coronal and sagittal views, and window/level + overlay blending.

/** LPS axes: 0 = L (patient's left), 1 = P (posterior), 2 = S (superior). */
const L = 0;
const P = 1;
const S = 2;

/**
 * Radiological display: axial and coronal show the patient's right on the screen's left;
 * sagittal shows anterior on the left; superior is up. `x`/`y` are [LPS axis, sign along the
 * screen axis], `fixed` is the LPS axis the view cuts across.
 */
export const VIEWS = {
  axial: { fixed: S, x: [L, 1], y: [P, 1] },
  coronal: { fixed: P, x: [L, 1], y: [S, -1] },
  sagittal: { fixed: L, x: [P, 1], y: [S, -1] },
};

/**
 * For each LPS axis, the index axis that runs closest to it and whether the index increases
 * towards +LPS. `direction` is row-major 3×3 with column c = index axis c in LPS (the API's
 * geometry). A grid so oblique that two index axes share a dominant LPS axis falls back to the
 * identity (index axis a shown as LPS axis a) instead of showing a degenerate view.
 */
export function axisMapping(direction) {
  const byLps = [null, null, null];
  for (let c = 0; c < 3; c++) {
    let best = 0;
    for (let a = 1; a < 3; a++) if (Math.abs(direction[a * 3 + c]) > Math.abs(direction[best * 3 + c])) best = a;
    if (byLps[best] !== null) return [0, 1, 2].map((a) => ({ axis: a, sign: 1 }));
    byLps[best] = { axis: c, sign: direction[best * 3 + c] < 0 ? -1 : 1 };
  }
  return byLps;
}

/**
 * The plane of one view: the index axes along screen x and y, whether each is flipped, and the
 * index axis cut across. `dims` are voxels along index axes i, j, k.
 */
export function viewPlane(view, mapping, dims, spacing) {
  const spec = VIEWS[view];
  const along = ([lps, sign]) => ({ axis: mapping[lps].axis, flip: mapping[lps].sign !== sign });
  const x = along(spec.x);
  const y = along(spec.y);
  const fixed = { axis: mapping[spec.fixed].axis, flip: false };
  return {
    x,
    y,
    fixed,
    width: dims[x.axis],
    height: dims[y.axis],
    depth: dims[fixed.axis],
    widthMm: dims[x.axis] * spacing[x.axis],
    heightMm: dims[y.axis] * spacing[y.axis],
  };
}

/** Index of voxel (i, j, k) in a volume stored i fastest. */
function strides(dims) {
  return [1, dims[0], dims[0] * dims[1]];
}

/** The voxel index of screen pixel (col, row) on slice `slice` of a plane. */
export function voxelIndexAt(plane, dims, slice, col, row) {
  const st = strides(dims);
  const ix = plane.x.flip ? plane.width - 1 - col : col;
  const iy = plane.y.flip ? plane.height - 1 - row : row;
  return ix * st[plane.x.axis] + iy * st[plane.y.axis] + slice * st[plane.fixed.axis];
}

/** The (col, row) on a plane where a voxel with index coordinates `ijk` appears. */
export function screenPositionOf(plane, ijk) {
  const col = plane.x.flip ? plane.width - 1 - ijk[plane.x.axis] : ijk[plane.x.axis];
  const row = plane.y.flip ? plane.height - 1 - ijk[plane.y.axis] : ijk[plane.y.axis];
  return [col, row];
}

/** Index coordinate along each axis of a screen pixel (inverse of screenPositionOf). */
export function indexCoordinatesAt(plane, col, row) {
  return {
    [plane.x.axis]: plane.x.flip ? plane.width - 1 - col : col,
    [plane.y.axis]: plane.y.flip ? plane.height - 1 - row : row,
  };
}

/**
 * Fills `rgba` (width × height × 4) with one slice: grey from window/level of the image
 * (scaled by slope/intercept to HU), or black without an image, then each visible label blended
 * in its colour at `opacity`. `colours` maps label id → [r, g, b]; hidden labels are absent.
 */
export function renderSlice(rgba, plane, dims, slice, image, labels, { windowWidth, windowLevel, opacity, colours }) {
  const st = strides(dims);
  const sx = st[plane.x.axis] * (plane.x.flip ? -1 : 1);
  const sy = st[plane.y.axis] * (plane.y.flip ? -1 : 1);
  const x0 = plane.x.flip ? (plane.width - 1) * st[plane.x.axis] : 0;
  const y0 = plane.y.flip ? (plane.height - 1) * st[plane.y.axis] : 0;
  const base = slice * st[plane.fixed.axis] + x0 + y0;
  const low = windowLevel - windowWidth / 2;
  const scale = 255 / Math.max(windowWidth, 1e-6);
  const slope = image ? image.slope : 1;
  const inter = image ? image.inter : 0;
  const data = image ? image.data : null;
  const keep = 1 - opacity;
  let o = 0;
  for (let row = 0; row < plane.height; row++) {
    let v = base + row * sy;
    for (let col = 0; col < plane.width; col++, v += sx, o += 4) {
      let grey = 0;
      if (data) {
        const g = ((data[v] * slope + inter) - low) * scale;
        grey = g < 0 ? 0 : g > 255 ? 255 : g;
      }
      let r = grey;
      let gr = grey;
      let b = grey;
      const colour = labels ? colours.get(labels[v]) : undefined;
      if (colour) {
        r = grey * keep + colour[0] * opacity;
        gr = grey * keep + colour[1] * opacity;
        b = grey * keep + colour[2] * opacity;
      }
      rgba[o] = r;
      rgba[o + 1] = gr;
      rgba[o + 2] = b;
      rgba[o + 3] = 255;
    }
  }
}

/**
 * Voxel count and index-space centre of mass of every non-zero label; the viewer opens on the
 * slices through the organs, and the counts must agree with the server's statistics.
 */
export function labelSummary(labels, dims) {
  const counts = new Map();
  const sum = [0, 0, 0];
  let total = 0;
  let v = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, v++) {
        const label = labels[v];
        if (label === 0) continue;
        counts.set(label, (counts.get(label) ?? 0) + 1);
        sum[0] += i;
        sum[1] += j;
        sum[2] += k;
        total++;
      }
    }
  }
  const centre = total ? sum.map((s) => Math.round(s / total)) : dims.map((d) => Math.floor(d / 2));
  return { counts, centre };
}
