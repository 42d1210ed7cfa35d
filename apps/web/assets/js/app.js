// Entry point: the API key (kept in sessionStorage) and the hash router between the pages.

import { ApiError, forgetKey, getJson, getKey, setKey } from './api.js';
import { $, showError } from './dom.js';
import { JobsPage } from './jobs.js';
import { SearchPage } from './search.js';
import { SegmentationPage } from './segment.js';

const pages = {
  segment: new SegmentationPage(),
  jobs: new JobsPage(),
  search: new SearchPage(),
};
let current = null;

/** #/segment, #/segment/<id>, #/jobs, #/search; anything else is the segmentation page. */
function parseRoute(hash) {
  const [, name, id] = hash.match(/^#\/(segment|jobs|search)(?:\/([0-9a-fA-F-]{36}))?$/) ?? [];
  return name ? { name, id: name === 'segment' ? id : undefined } : { name: 'segment' };
}

function route({ moveFocus }) {
  const hasKey = Boolean(getKey());
  $('#key-needed').hidden = hasKey;
  $('#key-form').hidden = hasKey;
  $('#key-status').hidden = !hasKey;
  const { name, id } = parseRoute(location.hash);
  for (const link of document.querySelectorAll('nav a[data-page]')) {
    if (link.dataset.page === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  for (const [pageName, page] of Object.entries(pages)) {
    const section = $(`#page-${pageName}`);
    const visible = hasKey && pageName === name;
    if (!visible && !section.hidden) page.hide();
    section.hidden = !visible;
  }
  if (!hasKey) {
    current = null;
    return;
  }
  const changedPage = current !== name;
  current = name;
  pages[name].show(id);
  if (moveFocus && changedPage) $(`#page-${name} h2`).focus();
}

$('#key-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('#api-key');
  const key = input.value.trim();
  showError($('#key-error'), null);
  if (!key) return;
  setKey(key);
  try {
    // Any authenticated route tells whether the key is known; /jobs needs no particular scope.
    await getJson('/jobs?limit=1');
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 0)) {
      forgetKey();
      showError($('#key-error'), error);
      input.focus();
      return;
    }
  }
  input.value = '';
  $('#key-name').textContent = `Key …${key.slice(-4)} in use`;
  route({ moveFocus: true });
});

$('#key-forget').addEventListener('click', () => {
  forgetKey();
  route({ moveFocus: false });
  $('#api-key').focus();
});

for (const heading of document.querySelectorAll('.page h2')) heading.tabIndex = -1;
window.addEventListener('hashchange', () => route({ moveFocus: true }));
if (getKey()) $('#key-name').textContent = `Key …${getKey().slice(-4)} in use`;
route({ moveFocus: false });
if (!getKey()) $('#api-key').focus();
