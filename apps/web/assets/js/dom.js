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

/**
 * Makes `zone` accept dropped files for its file input: the input stays the keyboard and
 * screen-reader path, drag and drop is the shortcut. `onFiles(files)` gets a File array.
 */
export function fileDropZone(zone, input, onFiles) {
  const enter = (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  };
  const leave = () => zone.classList.remove('dragging');
  zone.addEventListener('dragenter', enter);
  zone.addEventListener('dragover', enter);
  zone.addEventListener('dragleave', leave);
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    leave();
    const files = [...(event.dataTransfer?.files ?? [])];
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
