// The 2D viewer: axial, coronal and sagittal canvases (no WebGL) with the label overlay,
// slice sliders, window/level, opacity and organ toggles. Geometry lives in slices.js.

import { axisMapping, indexCoordinatesAt, labelSummary, renderSlice, screenPositionOf, viewPlane } from './slices.js';

export const ORGAN_COLOURS = {
  liver: [214, 96, 77],
  spleen: [67, 147, 195],
  pancreas: [240, 200, 60],
};

const VIEW_TITLES = { axial: 'Axial', coronal: 'Coronal', sagittal: 'Sagittal' };
// Largest side of a view on screen, in CSS pixels (the canvas then scales down with the layout).
const VIEW_MAX_CSS = 360;

export class SliceViewer {
  /**
   * @param container element that receives the three views
   * @param options { labels: Uint8Array-like, image: {data, slope, inter} | null, dims, spacing,
   *   direction, organs: [{name, label}] }
   */
  constructor(container, { labels, image, dims, spacing, direction, organs }) {
    this.container = container;
    this.labels = labels;
    this.image = image;
    this.dims = dims;
    this.spacing = spacing;
    this.organs = organs;
    this.windowWidth = 400;
    this.windowLevel = 50;
    this.opacity = 0.45;
    this.hidden = new Set();
    const mapping = axisMapping(direction);
    const summary = labelSummary(labels, dims);
    this.labelCounts = summary.counts;
    this.position = [...summary.centre];
    this.views = Object.keys(VIEW_TITLES).map((name) => this.buildView(name, viewPlane(name, mapping, dims, spacing)));
    this.render();
  }

  buildView(name, plane) {
    const figure = document.createElement('figure');
    const id = `view-${name}`;
    figure.className = 'view';
    figure.id = id;
    const caption = document.createElement('figcaption');
    caption.id = `${id}-caption`;
    caption.textContent = VIEW_TITLES[name];
    const canvas = document.createElement('canvas');
    canvas.id = `${id}-canvas`;
    canvas.className = 'view-canvas';
    canvas.setAttribute('role', 'img');
    canvas.dataset.view = name;
    // Screen pixels proportional to millimetres, so anisotropic voxels are not squashed.
    const scale = VIEW_MAX_CSS / Math.max(plane.widthMm, plane.heightMm);
    canvas.width = Math.max(1, Math.round(plane.widthMm * scale));
    canvas.height = Math.max(1, Math.round(plane.heightMm * scale));
    const slider = document.createElement('input');
    slider.type = 'range';
    slider.id = `${id}-slice`;
    slider.min = '0';
    slider.max = String(plane.depth - 1);
    slider.step = '1';
    const sliderLabel = document.createElement('label');
    sliderLabel.htmlFor = slider.id;
    sliderLabel.textContent = `${VIEW_TITLES[name]} slice`;
    const output = document.createElement('output');
    output.htmlFor = slider.id;
    const controls = document.createElement('div');
    controls.className = 'slice-control';
    controls.append(sliderLabel, slider, output);
    figure.append(caption, canvas, controls);
    this.container.append(figure);

    // Voxel-resolution buffer, scaled onto the visible canvas without smoothing.
    const buffer = document.createElement('canvas');
    buffer.width = plane.width;
    buffer.height = plane.height;
    const view = { name, plane, canvas, buffer, image: buffer.getContext('2d').createImageData(plane.width, plane.height), slider, output };
    slider.addEventListener('input', () => {
      this.position[plane.fixed.axis] = Number(slider.value);
      this.render();
    });
    // Clicking a view moves the other two views to that point.
    canvas.addEventListener('click', (event) => {
      const rect = canvas.getBoundingClientRect();
      const col = Math.min(plane.width - 1, Math.max(0, Math.floor(((event.clientX - rect.left) / rect.width) * plane.width)));
      const row = Math.min(plane.height - 1, Math.max(0, Math.floor(((event.clientY - rect.top) / rect.height) * plane.height)));
      for (const [axis, value] of Object.entries(indexCoordinatesAt(plane, col, row))) this.position[Number(axis)] = value;
      this.render();
    });
    return view;
  }

  /** Label id → colour of the organs currently shown. */
  colours() {
    const map = new Map();
    for (const organ of this.organs) if (!this.hidden.has(organ.name)) map.set(organ.label, ORGAN_COLOURS[organ.name] ?? [255, 0, 255]);
    return map;
  }

  setWindow(width, level) {
    this.windowWidth = width;
    this.windowLevel = level;
    this.render();
  }

  setOpacity(opacity) {
    this.opacity = opacity;
    this.render();
  }

  setOrganVisible(name, visible) {
    if (visible) this.hidden.delete(name);
    else this.hidden.add(name);
    this.render();
  }

  render() {
    const options = { windowWidth: this.windowWidth, windowLevel: this.windowLevel, opacity: this.opacity, colours: this.colours() };
    for (const view of this.views) {
      const { plane, canvas, buffer, image, slider, output } = view;
      const slice = this.position[plane.fixed.axis];
      renderSlice(image.data, plane, this.dims, slice, this.image, this.labels, options);
      buffer.getContext('2d').putImageData(image, 0, 0);
      const context = canvas.getContext('2d');
      context.imageSmoothingEnabled = false;
      context.drawImage(buffer, 0, 0, canvas.width, canvas.height);
      this.drawCrosshair(context, view);
      slider.value = String(slice);
      output.value = `${slice + 1} / ${plane.depth}`;
      canvas.setAttribute('aria-label', `${VIEW_TITLES[view.name]} slice ${slice + 1} of ${plane.depth}${this.image ? '' : ' (label map only)'} with the organ overlay`);
    }
  }

  drawCrosshair(context, { plane, canvas }) {
    const [col, row] = screenPositionOf(plane, this.position);
    const x = ((col + 0.5) / plane.width) * canvas.width;
    const y = ((row + 0.5) / plane.height) * canvas.height;
    context.save();
    context.strokeStyle = 'rgba(120, 220, 120, 0.45)';
    context.lineWidth = 1;
    context.setLineDash([4, 4]);
    context.beginPath();
    context.moveTo(Math.round(x) + 0.5, 0);
    context.lineTo(Math.round(x) + 0.5, canvas.height);
    context.moveTo(0, Math.round(y) + 0.5);
    context.lineTo(canvas.width, Math.round(y) + 0.5);
    context.stroke();
    context.restore();
  }
}
