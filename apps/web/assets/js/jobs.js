// Jobs page: the key's recent jobs (GET /jobs), newest first, with status, duration and links.

import { getJson } from './api.js';
import { $, el, formatMs, showError } from './dom.js';

const PAGE_SIZE = 25;

export class JobsPage {
  constructor() {
    this.cursor = null;
    $('#jobs-filter').addEventListener('submit', (event) => {
      event.preventDefault();
      this.load();
    });
    $('#jobs-more').addEventListener('click', () => this.load(this.cursor));
  }

  show() {
    this.load();
  }

  hide() {}

  async load(cursor = null) {
    showError($('#jobs-error'), null);
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if ($('#jobs-kind').value) query.set('kind', $('#jobs-kind').value);
    if ($('#jobs-status').value) query.set('status', $('#jobs-status').value);
    if (cursor) query.set('cursor', cursor);
    let page;
    try {
      page = await getJson(`/jobs?${query}`);
    } catch (error) {
      showError($('#jobs-error'), error);
      return;
    }
    const body = $('#jobs-table tbody');
    const rows = page.items.map((job) => this.row(job));
    if (cursor) body.append(...rows);
    else body.replaceChildren(...rows);
    this.cursor = page.nextCursor;
    $('#jobs-more').hidden = !page.nextCursor;
    $('#jobs-empty').hidden = body.children.length > 0;
  }

  row(job) {
    const created = new Date(job.createdAt);
    const duration = job.timings?.runMs ?? null;
    const queued = job.timings?.queuedMs;
    const links = [];
    if (job.kind === 'segmentation') links.push(el('a', { href: `#/segment/${job.id}` }, 'Open result', el('span', { className: 'visually-hidden' }, ` of job ${job.id}`)));
    const error = job.error?.message ? el('div', { className: 'job-error' }, job.error.message) : null;
    return el(
      'tr',
      { dataset: { jobId: job.id, status: job.status } },
      el('td', {}, el('time', { datetime: job.createdAt }, created.toLocaleString())),
      el('td', {}, job.kind),
      el('td', {}, el('span', { className: `status status-${job.status}` }, job.status)),
      el('td', {}, job.status === 'running' ? `${job.stage ?? ''} (${Math.round(job.progress * 100)}%)` : (job.stage ?? '—'), error),
      el('td', {}, formatMs(duration), queued !== null && queued !== undefined ? el('div', { className: 'help' }, `queued ${formatMs(queued)}`) : null),
      el('td', {}, el('code', { className: 'job-id', title: job.id }, job.id.slice(0, 8)), ' ', ...links),
    );
  }
}
