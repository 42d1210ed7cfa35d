// Every call to the Lumen API goes through here: the key from sessionStorage in X-API-Key,
// and errors turned into ApiError carrying the problem+json `detail`.

const KEY_STORAGE = 'lumen.apiKey';

export function getKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function setKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

/** An API error: `message` is what the user reads (the problem's detail). */
export class ApiError extends Error {
  constructor(status, detail, problem) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/** The problem+json detail of a failed response, else a plain description of it. */
async function errorFrom(status, statusText, contentType, readText) {
  let text = '';
  try {
    text = await readText();
  } catch {
    // The body could not be read: the status alone has to do.
  }
  if (contentType && /json/.test(contentType) && text) {
    try {
      const problem = JSON.parse(text);
      const fieldErrors = Array.isArray(problem.errors) ? problem.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).filter(Boolean) : [];
      const detail = problem.detail || problem.title || `HTTP ${status}`;
      const extra = fieldErrors.filter((m) => !detail.includes(m));
      return new ApiError(status, extra.length ? `${detail} (${extra.join('; ')})` : detail, problem);
    } catch {
      // Not JSON after all: fall through.
    }
  }
  return new ApiError(status, `HTTP ${status} ${statusText || ''}`.trim() + (text && text.length < 300 ? `: ${text}` : ''));
}

function headers(extra = {}) {
  const key = getKey();
  return { ...(key ? { 'X-API-Key': key } : {}), ...extra };
}

/** fetch with the key; throws ApiError unless 2xx. */
export async function request(path, { method = 'GET', json, body, signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(json === undefined ? {} : { 'content-type': 'application/json' }),
      body: json === undefined ? body : JSON.stringify(json),
      signal,
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, `The service cannot be reached (${error.message})`);
  }
  if (!response.ok) throw await errorFrom(response.status, response.statusText, response.headers.get('content-type'), () => response.text());
  return response;
}

export async function getJson(path, options) {
  return (await request(path, options)).json();
}

export async function getBlob(path, options) {
  return (await request(path, options)).blob();
}

/**
 * POST a FormData with XMLHttpRequest, the one browser API that reports upload progress.
 * `onProgress(sentBytes, totalBytes)` is called as the body goes out; resolves with the JSON.
 */
export function uploadForm(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    const key = getKey();
    if (key) xhr.setRequestHeader('X-API-Key', key);
    xhr.responseType = 'text';
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded, event.total);
    });
    xhr.addEventListener('load', async () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText));
        } catch {
          reject(new ApiError(xhr.status, 'The service answered with something that is not JSON'));
        }
        return;
      }
      reject(await errorFrom(xhr.status, xhr.statusText, xhr.getResponseHeader('content-type'), async () => xhr.responseText));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'The upload failed: the service cannot be reached')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'The upload was cancelled')));
    xhr.send(form);
  });
}

/** Saves a blob under a file name through a temporary object URL. */
export function saveBlob(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
