// Segmentation page: upload (with progress), live job progress by stage, then the viewer.

import { getBlob, getJson, request, saveBlob, uploadForm } from './api.js';
import { $, el, fileDropZone, formatBytes, formatMs, formatNumber, showError } from './dom.js';
import { ORGANS, ORGAN_LABELS, organColour } from './organs.js';
import { NiivueViewer } from './viewer.js';

const POLL_MS = 1000;
const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

/** Pipeline steps by the stage codes the worker reports in `stageCode` (JobStage in libs/jobs). */
const STEPS = [
  { label: 'Queued', codes: ['queued', 'retrying', 'starting'] },
  { label: 'Reading the volume', codes: ['reading'] },
  { label: 'Stage 1: coarse segmentation', codes: ['stage1'] },
  { label: 'Stage 2: fine tiles', codes: ['candidate-region', 'stage2'], skippedWhen: (s) => s.fast },
  { label: 'Post-processing', codes: ['post-processing'] },
  { label: 'Statistics', codes: ['statistics'] },
  { label: 'Writing outputs', codes: ['writing'] },
  { label: 'Done', codes: ['done'] },
];

/** Files NiiVue reads itself; for anything else (DICOM files or zip) the viewer asks the API for the CT. */
const viewerReads = (name) => /\.(nii(\.gz)?|nrrd|mha)$/i.test(name);

/** The file name in a Content-Disposition header (the API names downloads with their extension). */
const attachmentName = (header, fallback) => /filename="([^"]+)"/.exec(header ?? '')?.[1] ?? fallback;

export class SegmentationPage {
  constructor() {
    /** Image files uploaded from this tab, by segmentation id: the viewer shows them under the labels. */
    this.uploadedImages = new Map();
    this.imageFiles = [];
    this.referenceFile = null;
    this.activeId = null;
    this.pollTimer = null;
    this.viewer = null;
    this.previewUrl = null;
    this.wireForm();
    this.wireViewerControls();
  }

  wireForm() {
    const chooseImages = (files) => this.setImages(files);
    fileDropZone($('#image-drop'), $('#image-input'), chooseImages, { folders: true });
    $('#image-folder-input').addEventListener('change', (event) => chooseImages([...event.target.files].filter((f) => !f.name.startsWith('.'))));
    fileDropZone($('#reference-drop'), $('#reference-input'), ([file]) => this.setReference(file ?? null));
    $('#reference-clear').addEventListener('click', () => {
      $('#reference-input').value = '';
      this.setReference(null);
    });
    $('#segment-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  /**
   * The CT: one file (NIfTI, NRRD, MHA, a DICOM zip or one DICOM file), or many DICOM files (a
   * folder or a multiple choice), which the form sends as one `image` part each.
   */
  setImages(files) {
    this.imageFiles = files;
    const bytes = files.reduce((n, f) => n + f.size, 0);
    $('#image-name').textContent = files.length === 1 ? `${files[0].name} (${formatBytes(bytes)})` : files.length ? `${files.length} files (${formatBytes(bytes)})` : '';
  }

  setReference(file) {
    this.referenceFile = file;
    $('#reference-name').textContent = file ? `${file.name} (${formatBytes(file.size)})` : '';
    $('#reference-labels').disabled = !file;
    $('#reference-clear').hidden = !file;
  }

  wireViewerControls() {
    const preset = $('#window-preset');
    const width = $('#window-width');
    const level = $('#window-level');
    const apply = () => this.viewer?.setWindow(Number(width.value) || 1, Number(level.value) || 0);
    preset.addEventListener('change', () => {
      if (preset.value === 'custom') return;
      const [w, l] = preset.value.split(',');
      width.value = w;
      level.value = l;
      apply();
    });
    for (const input of [width, level]) {
      input.addEventListener('input', () => {
        const match = [...preset.options].find((o) => o.value === `${width.value},${level.value}`);
        preset.value = match ? match.value : 'custom';
        apply();
      });
    }
    const opacity = $('#overlay-opacity');
    opacity.addEventListener('input', () => {
      $('#overlay-opacity-value').value = `${opacity.value}%`;
      this.viewer?.setOpacity(Number(opacity.value) / 100);
    });
    $('#view-layout').addEventListener('change', (event) => this.viewer?.setLayout(event.target.value));
    $('#download-labels').addEventListener('click', () => this.download('labels', `${this.activeId}_labels.nii.gz`));
    $('#download-dicom-seg').addEventListener('click', () => this.download('dicom-seg', `${this.activeId}_seg.dcm`));
    $('#download-preview').addEventListener('click', () => this.download('preview', `${this.activeId}_preview.png`));
  }

  async download(kind, fileName) {
    showError($('#viewer-error'), null);
    try {
      saveBlob(await getBlob(`/segmentations/${this.activeId}/${kind}`), fileName);
    } catch (error) {
      showError($('#viewer-error'), error);
    }
  }

  /** Route: #/segment (form) or #/segment/<id> (that job's progress and result). */
  show(id) {
    if (!id) {
      this.stop();
      this.activeId = null;
      $('#job').hidden = true;
      $('#viewer').hidden = true;
      return;
    }
    if (id !== this.activeId) this.open(id);
  }

  /** Leaving the page stops polling; coming back to the same job resumes it. */
  hide() {
    this.stop();
    this.activeId = null;
  }

  stop() {
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  formErrors() {
    if (!this.imageFiles.length) return 'Choose a CT image (NIfTI, NRRD, MHA, or a DICOM folder, files or zip) first.';
    if (this.selectedOrgans().length === 0) return 'Choose at least one organ.';
    if (this.referenceFile) {
      for (const organ of ORGANS) {
        const value = $(`#ref-${organ}`).value;
        if (!/^\d+$/.test(value) || Number(value) > 65535) return `The reference label id of ${organ} must be a whole number from 0 to 65535.`;
      }
    }
    return null;
  }

  selectedOrgans() {
    return [...document.querySelectorAll('#segment-form input[name="organ"]:checked')].map((i) => i.value);
  }

  async submit() {
    const error = $('#segment-error');
    showError(error, null);
    const problem = this.formErrors();
    if (problem) {
      showError(error, problem);
      return;
    }
    const form = new FormData();
    for (const file of this.imageFiles) form.append('image', file, file.name);
    if (this.referenceFile) {
      form.append('reference', this.referenceFile, this.referenceFile.name);
      form.append('referenceLabels', JSON.stringify(Object.fromEntries(ORGANS.map((o) => [o, Number($(`#ref-${o}`).value)]))));
    }
    form.append('organs', this.selectedOrgans().join(','));
    form.append('fast', $('#fast').checked ? 'true' : 'false');

    const submit = $('#segment-submit');
    const progress = $('#upload-progress');
    const text = $('#upload-text');
    submit.disabled = true;
    $('#upload').hidden = false;
    progress.value = 0;
    text.textContent = 'Uploading…';
    let lastAnnounced = -1;
    try {
      const created = await uploadForm('/segmentations', form, (sent, total) => {
        const percent = Math.floor((100 * sent) / total);
        progress.value = percent;
        // Announce in 10% steps so a screen reader is not flooded.
        if (Math.floor(percent / 10) !== lastAnnounced || sent === total) {
          lastAnnounced = Math.floor(percent / 10);
          text.textContent = sent === total ? `Uploaded ${formatBytes(total)}; the service is checking the file…` : `Uploading ${percent}% (${formatBytes(sent)} of ${formatBytes(total)})`;
        }
      });
      progress.value = 100;
      text.textContent = `Uploaded; queued as ${created.id}.`;
      if (this.imageFiles.length === 1) this.uploadedImages.set(created.id, this.imageFiles[0]);
      location.hash = `#/segment/${created.id}`;
    } catch (uploadError) {
      text.textContent = 'Upload failed.';
      showError(error, uploadError);
    } finally {
      submit.disabled = false;
    }
  }

  open(id) {
    this.stop();
    this.activeId = id;
    this.viewer = null;
    $('#job').hidden = false;
    $('#viewer').hidden = true;
    $('#job-id').textContent = id;
    $('#job-file').textContent = '';
    $('#job-text').textContent = 'Loading…';
    $('#job-progress').value = 0;
    $('#job-stages').replaceChildren();
    showError($('#job-error'), null);
    this.poll(id);
  }

  async poll(id) {
    let segmentation;
    try {
      segmentation = await getJson(`/segmentations/${id}`);
    } catch (error) {
      if (this.activeId !== id) return;
      showError($('#job-error'), error);
      $('#job-text').textContent = 'Could not read the job.';
      // A 404 will not change; anything else (a restart, a network blip) is retried.
      if (error.status !== 404 && error.status !== 400 && error.status !== 401 && error.status !== 403) this.pollTimer = setTimeout(() => this.poll(id), POLL_MS * 3);
      return;
    }
    if (this.activeId !== id) return;
    showError($('#job-error'), null);
    this.renderJob(segmentation);
    if (!TERMINAL.has(segmentation.status)) {
      this.pollTimer = setTimeout(() => this.poll(id), POLL_MS);
      return;
    }
    if (segmentation.status === 'succeeded') await this.showResult(segmentation);
    else showError($('#job-error'), segmentation.error?.message ?? `The segmentation ${segmentation.status}`);
  }

  renderJob(s) {
    $('#job-file').textContent = `${s.fileName} · organs: ${s.organs.join(', ')}${s.fast ? ' · fast' : ''}`;
    $('#job-progress').value = s.progress;
    const text = `${s.status[0].toUpperCase()}${s.status.slice(1)}${s.stage && s.status === 'running' ? ` — ${s.stage}` : ''} (${Math.round(s.progress * 100)}%)`;
    if ($('#job-text').textContent !== text) $('#job-text').textContent = text;
    const current = STEPS.findIndex((step) => step.codes.includes(s.stageCode));
    const items = STEPS.map((step, index) => {
      const skipped = step.skippedWhen?.(s);
      const done = s.status === 'succeeded' || (current >= 0 && index < current);
      const state = skipped ? 'skipped' : index === current ? 'current' : done ? 'done' : 'pending';
      const stateText = { skipped: 'skipped', current: 'in progress', done: 'done', pending: 'pending' }[state];
      return el('li', { className: `stage ${state}`, 'aria-current': index === current ? 'step' : null }, step.label, el('span', { className: 'visually-hidden' }, `: ${stateText}`));
    });
    $('#job-stages').replaceChildren(...items);
  }

  async showResult(s) {
    const viewerSection = $('#viewer');
    viewerSection.hidden = false;
    showError($('#viewer-error'), null);
    this.renderStatistics(s);
    this.renderOrganToggles(s);
    this.renderDicomSeg(s);
    await Promise.all([this.loadPreview(s.id), this.loadViewer(s)]);
  }

  renderStatistics(s) {
    const rows = Object.entries(s.results ?? {}).map(([organ, r]) => {
      const box = r.boundingBoxMm ? `${r.boundingBoxMm.min.map((v) => v.toFixed(0)).join(', ')} → ${r.boundingBoxMm.max.map((v) => v.toFixed(0)).join(', ')}` : '—';
      return el(
        'tr',
        { dataset: { organ } },
        el('th', { scope: 'row' }, swatch(organ), organ),
        el('td', {}, r.voxels.toLocaleString('en')),
        el('td', {}, formatNumber(r.volumeMl, 1)),
        el('td', {}, formatNumber(r.meanHu, 1)),
        el('td', {}, formatNumber(r.stdHu, 1)),
        el('td', {}, r.centroidMm ? r.centroidMm.map((v) => v.toFixed(1)).join(', ') : '—'),
        el('td', {}, box),
        el('td', {}, r.touchesBorder ? 'yes — may be cut off' : 'no'),
      );
    });
    $('#stats-table tbody').replaceChildren(...rows);
    const dice = s.dice ? Object.entries(s.dice) : [];
    $('#dice-block').hidden = dice.length === 0;
    $('#dice-table tbody').replaceChildren(
      ...dice.map(([organ, value]) => el('tr', { dataset: { organ } }, el('th', { scope: 'row' }, swatch(organ), organ), el('td', {}, value === null ? 'no reference label' : value.toFixed(3)))),
    );
    const timings = s.timingsMs ? Object.entries(s.timingsMs).map(([step, ms]) => `${step} ${formatMs(ms)}`).join(' · ') : '';
    const stage2 = s.stage2 ? ` · stage 2 ran ${s.stage2.tiles}/${s.stage2.tilesTotal} tiles (${(s.stage2.voxelFraction * 100).toFixed(0)}% of the fine grid)` : '';
    $('#timings').textContent = timings ? `Timings: ${timings}${stage2}` : '';
  }

  /** The DICOM SEG download: DICOM inputs only; disabled, with the reason, when none was made. */
  renderDicomSeg(s) {
    const button = $('#download-dicom-seg');
    const note = $('#dicom-seg-note');
    button.hidden = !s.links?.dicomSeg;
    button.disabled = s.dicomSeg?.available === false;
    note.hidden = !(s.links?.dicomSeg && s.dicomSeg?.available === false);
    note.textContent = s.dicomSeg?.available === false ? `No DICOM SEG: ${s.dicomSeg.detail}` : '';
  }

  renderOrganToggles(s) {
    const toggles = s.organs.map((organ) =>
      el(
        'label',
        { className: 'organ-toggle' },
        el('input', { type: 'checkbox', checked: true, value: organ, onchange: (event) => this.viewer?.setOrganVisible(organ, event.target.checked) }),
        swatch(organ),
        organ,
      ),
    );
    $('#organ-toggles').replaceChildren(...toggles);
  }

  async loadPreview(id) {
    try {
      const blob = await getBlob(`/segmentations/${id}/preview`);
      if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
      this.previewUrl = URL.createObjectURL(blob);
      $('#preview-image').src = this.previewUrl;
      $('#preview-figure').hidden = false;
    } catch (error) {
      showError($('#viewer-error'), error);
    }
  }

  /** The CT for the viewer: the file uploaded from this tab when NiiVue reads it, else the API's copy. */
  async viewerImage(s) {
    const file = this.uploadedImages.get(s.id);
    if (file && viewerReads(file.name)) return file;
    const response = await request(`/segmentations/${s.id}/image`);
    return new File([await response.blob()], attachmentName(response.headers.get('content-disposition'), `${s.id}_image.nii.gz`));
  }

  async loadViewer(s) {
    const note = $('#viewer-note');
    const views = $('#views');
    const canvas = el('canvas', { id: 'viewer-canvas', className: 'viewer-canvas', role: 'img', 'aria-label': 'CT with the organ overlay: axial, coronal, sagittal and 3D views' });
    const readout = el('p', { id: 'viewer-readout', className: 'viewer-readout', 'aria-live': 'polite' });
    views.replaceChildren(el('div', { className: 'viewer-canvas-wrap' }, canvas), readout);
    note.textContent = 'Loading the CT and the label map…';
    let labels;
    let image = null;
    let imageNote = '';
    try {
      labels = new File([await getBlob(`/segmentations/${s.id}/labels`)], `${s.id}_labels.nii.gz`);
    } catch (error) {
      note.textContent = 'The label map could not be shown here; the server preview below shows the result.';
      showError($('#viewer-error'), error);
      return;
    }
    try {
      image = await this.viewerImage(s);
    } catch (error) {
      imageNote = ` The CT could not be loaded (${error.message}): the overlay is shown on black.`;
    }
    if (this.activeId !== s.id) return;
    const organs = s.organs.map((name) => ({ name, label: s.results?.[name]?.label ?? ORGAN_LABELS[name] }));
    const viewer = new NiivueViewer(canvas, readout);
    viewer.setWindow(Number($('#window-width').value) || 400, Number($('#window-level').value) || 50);
    viewer.setOpacity(Number($('#overlay-opacity').value) / 100);
    for (const toggle of document.querySelectorAll('#organ-toggles input')) if (!toggle.checked) viewer.setOrganVisible(toggle.value, false);
    try {
      await viewer.load({ image, labels, organs });
    } catch (error) {
      note.textContent = 'The viewer could not start (it needs WebGL2); the server preview below shows the result.';
      showError($('#viewer-error'), error);
      return;
    }
    viewer.setLayout($('#view-layout').value);
    this.viewer = viewer;
    // For tests and debugging: the viewer (and its NiiVue instance) from the canvas.
    canvas.lumenViewer = viewer;
    canvas.dataset.ready = 'true';
    const size = s.geometry?.size;
    const spacing = s.geometry?.spacing;
    note.textContent = `${size ? `${size.join(' × ')} voxels at ${spacing.map((v) => v.toFixed(2)).join(' × ')} mm. ` : ''}Click or drag in a view to move the crosshair; drag the 3D view to rotate it; scroll to move through slices.${imageNote}`;
  }
}

function swatch(organ) {
  const span = el('span', { className: 'swatch', 'aria-hidden': 'true' });
  const [r, g, b] = organColour(organ);
  span.style.backgroundColor = `rgb(${r}, ${g}, ${b})`;
  return span;
}
