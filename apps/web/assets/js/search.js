// Image search page: choose or create a collection, add images by drag and drop, search with an
// image and see the k nearest by Hamming distance.

import { ApiError, getJson, uploadForm } from './api.js';
import { $, el, fileDropZone, formatBytes, showError } from './dom.js';

const SELECTED_COLLECTION = 'lumen.collection';

export class SearchPage {
  constructor() {
    /**
     * The page can show thumbnails only of images it has itself: object URLs of files added from
     * this tab, by image id. Other results show their external id (or image id).
     */
    this.thumbnails = new Map();
    this.collections = [];
    this.queryFile = null;

    $('#collection-select').addEventListener('change', () => {
      sessionStorage.setItem(SELECTED_COLLECTION, $('#collection-select').value);
      this.describeCollection();
    });
    $('#collection-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.createCollection();
    });
    fileDropZone($('#add-drop'), $('#add-input'), (files) => this.addImages(files));
    fileDropZone($('#query-drop'), $('#query-input'), ([file]) => {
      this.queryFile = file ?? null;
      $('#query-name').textContent = file ? `${file.name} (${formatBytes(file.size)})` : '';
    });
    $('#search-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.search();
    });
  }

  show() {
    this.loadCollections();
  }

  hide() {}

  selected() {
    return this.collections.find((c) => c.id === $('#collection-select').value) ?? null;
  }

  async loadCollections(selectId) {
    showError($('#search-error'), null);
    let list;
    try {
      list = await getJson('/collections');
    } catch (error) {
      showError($('#search-error'), error);
      return;
    }
    this.collections = list.items;
    const select = $('#collection-select');
    const previous = select.value;
    const remembered = sessionStorage.getItem(SELECTED_COLLECTION);
    select.replaceChildren(
      ...(this.collections.length ? [] : [el('option', { value: '' }, 'No collection yet — create one')]),
      ...this.collections.map((c) => el('option', { value: c.id }, `${c.name} (${c.count} images, ${c.bits} bits)`)),
    );
    const pick = [selectId, previous, remembered].find((id) => id && this.collections.some((c) => c.id === id));
    if (pick) select.value = pick;
    this.describeCollection();
  }

  describeCollection() {
    const c = this.selected();
    $('#collection-info').textContent = c ? `${c.count} images · model ${c.model.name}@${c.model.version} · owner ${c.owner}` : '';
  }

  async createCollection() {
    showError($('#search-error'), null);
    const name = $('#collection-name').value.trim();
    if (!name) {
      showError($('#search-error'), 'Name the new collection.');
      $('#collection-name').focus();
      return;
    }
    const bits = Number($('#collection-bits').value);
    try {
      const created = await getJson('/collections', { method: 'POST', json: { name, ...(Number.isInteger(bits) && bits > 0 ? { bits } : {}) } });
      $('#collection-name').value = '';
      sessionStorage.setItem(SELECTED_COLLECTION, created.id);
      await this.loadCollections(created.id);
    } catch (error) {
      showError($('#search-error'), error);
    }
  }

  requireCollection() {
    const c = this.selected();
    if (!c) showError($('#search-error'), 'Choose or create a collection first.');
    return c;
  }

  async addImages(files) {
    showError($('#search-error'), null);
    const collection = this.requireCollection();
    if (!collection || files.length === 0) return;
    const form = new FormData();
    for (const file of files) form.append('images', file, file.name);
    // The file name becomes the external id: results of other sessions (no thumbnail) still say which image.
    form.append('externalIds', JSON.stringify(files.map((f) => f.name.slice(0, 256))));
    const progress = $('#add-progress');
    const text = $('#add-text');
    $('#add-upload').hidden = false;
    progress.value = 0;
    text.textContent = `Uploading ${files.length} image${files.length === 1 ? '' : 's'}…`;
    try {
      const response = await uploadForm(`/collections/${collection.id}/images`, form, (sent, total) => {
        progress.value = Math.floor((100 * sent) / total);
      });
      progress.value = 100;
      text.textContent = `${response.added} added, ${response.duplicates} duplicate${response.duplicates === 1 ? '' : 's'}, ${response.failed} failed.`;
      const items = response.results.map((result) => {
        const file = files[result.index];
        if (result.id && file && !this.thumbnails.has(result.id)) this.thumbnails.set(result.id, URL.createObjectURL(file));
        const outcome = result.outcome === 'failed' ? `failed: ${result.error?.detail ?? 'unknown error'}` : result.outcome;
        return el('li', { className: `outcome-${result.outcome}` }, this.thumbnail(result.id, result.fileName), el('span', {}, `${result.fileName} — ${outcome}`));
      });
      $('#add-results').replaceChildren(...items);
      await this.loadCollections(collection.id);
    } catch (error) {
      text.textContent = 'Upload failed.';
      showError($('#search-error'), error);
    } finally {
      $('#add-input').value = '';
    }
  }

  thumbnail(imageId, fallback) {
    const url = imageId ? this.thumbnails.get(imageId) : null;
    if (url) return el('img', { className: 'thumb', src: url, alt: fallback ?? '' });
    return el('span', { className: 'thumb thumb-missing', 'aria-hidden': 'true' }, '?');
  }

  async search() {
    showError($('#search-error'), null);
    const collection = this.requireCollection();
    if (!collection) return;
    if (!this.queryFile) {
      showError($('#search-error'), 'Choose a query image first.');
      return;
    }
    const k = $('#search-k').value;
    if (!/^\d+$/.test(k) || Number(k) < 1) {
      showError($('#search-error'), 'k must be a whole number of at least 1.');
      return;
    }
    const form = new FormData();
    form.append('image', this.queryFile, this.queryFile.name);
    form.append('k', k);
    const status = $('#search-status');
    status.textContent = 'Searching…';
    $('#search-submit').disabled = true;
    try {
      const response = await uploadForm(`/collections/${collection.id}/search`, form);
      if (!Array.isArray(response.results)) throw new ApiError(200, 'The service answered without a results list');
      status.textContent = `${response.results.length} result${response.results.length === 1 ? '' : 's'} in ${response.tookMs?.toFixed?.(1) ?? '?'} ms (nearest first).`;
      const items = response.results.map((hit, rank) => {
        const name = hit.externalId ?? hit.imageId;
        const metadata = hit.metadata && Object.keys(hit.metadata).length ? JSON.stringify(hit.metadata) : '';
        return el(
          'li',
          { className: 'hit', dataset: { imageId: hit.imageId, distance: String(hit.distance) } },
          this.thumbnail(hit.imageId, name),
          el('span', { className: 'hit-name' }, `${rank + 1}. ${name}`),
          el('span', { className: 'hit-distance' }, `distance ${hit.distance}`),
          metadata ? el('code', { className: 'hit-metadata' }, metadata) : null,
        );
      });
      $('#search-results').replaceChildren(...items);
    } catch (error) {
      status.textContent = '';
      showError($('#search-error'), error);
    } finally {
      $('#search-submit').disabled = false;
    }
  }
}
