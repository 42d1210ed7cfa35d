// Small DOM helpers shared by the pages.

export const $ = (selector, root = document) => root.querySelector(selector);

/** Shows an error's message (the API's problem detail) in an alert element, or hides it. */
export function showError(element, error) {
  if (!error) {
    element.hidden = true;
    element.textContent = '';
    return;
  }
  element.textContent = error instanceof Error ? error.message : String(error);
  element.hidden = false;
}

/** Creates an element with properties and children (strings become text nodes, never HTML). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'className') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'string' || typeof c === 'number' ? String(c) : c)));
  return node;
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export function formatMs(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatNumber(value, digits = 1) {
  return value === null || value === undefined ? '—' : Number(value).toFixed(digits);
}

/** Reads a dropped folder's entries, sub-folders included (readEntries answers in batches). */
async function folderFiles(entry, files) {
  if (entry.isFile) {
    // Hidden files (.DS_Store, ._ resource forks) are never part of a series.
    if (!entry.name.startsWith('.')) files.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    return;
  }
  if (!entry.isDirectory) return;
  const reader = entry.createReader();
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return;
    for (const child of batch) await folderFiles(child, files);
  }
}

/**
 * The files of a drop. With `folders`, a dropped folder gives the files inside it (walked after
 * the event, from the entries taken during it: the browser empties the DataTransfer afterwards).
 */
async function droppedFiles(transfer, folders) {
  const entries = folders ? [...(transfer?.items ?? [])].map((item) => item.webkitGetAsEntry?.()).filter(Boolean) : [];
  if (!entries.some((entry) => entry.isDirectory)) return [...(transfer?.files ?? [])];
  const files = [];
  for (const entry of entries) await folderFiles(entry, files);
  return files;
}

/**
 * Makes `zone` accept dropped files for its file input: the input stays the keyboard and
 * screen-reader path, drag and drop is the shortcut. `onFiles(files)` gets a File array. With
 * `folders` (and a `multiple` input), a dropped folder counts as the files inside it.
 */
export function fileDropZone(zone, input, onFiles, { folders = false } = {}) {
  const enter = (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  };
  const leave = () => zone.classList.remove('dragging');
  zone.addEventListener('dragenter', enter);
  zone.addEventListener('dragover', enter);
  zone.addEventListener('dragleave', leave);
  zone.addEventListener('drop', async (event) => {
    event.preventDefault();
    leave();
    const files = await droppedFiles(event.dataTransfer, folders && input.multiple);
    if (!files.length) return;
    // Mirror the drop into the input so the form and assistive tech see the same choice.
    try {
      const transfer = new DataTransfer();
      for (const file of input.multiple ? files : files.slice(0, 1)) transfer.items.add(file);
      input.files = transfer.files;
    } catch {
      // Older browsers cannot set input.files; the callback still gets the files.
    }
    onFiles(input.multiple ? files : files.slice(0, 1));
  });
  input.addEventListener('change', () => onFiles([...input.files]));
}
