import fs from 'node:fs';
import path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import sharp from 'sharp';
import { readVolume } from '@lumen/volumes';
import { parseDicom, volumeToDicomSeries } from './support/dicom-seg.js';
import { KEYS, type LumenProcess, ROOT, SHARED_DATA, client, createDatabase, startApi, tempDir } from './support/lumen.js';

// Browser globals used inside page.evaluate callbacks: the project compiles for Node (no DOM lib).
declare const document: any;
declare const DataTransfer: any;
declare const File: any;
declare function atob(data: string): string;

const CHROMIUM = '/usr/bin/chromium';
// NiiVue draws with WebGL2: headless Chromium gives it through SwiftShader (software, no GPU).
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const CT = path.join(SHARED_DATA, 'ct', 'abdomen_ct_3mm.nii.gz');
const CT_REFERENCE = path.join(SHARED_DATA, 'ct', 'abdomen_ct_3mm_reference_labels.nii.gz');
const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');

/** A model is served when some version has card.json and model.onnx (as ModelRegistry decides). */
function served(name: string): boolean {
  const dir = path.join(ROOT, 'models', name);
  return fs.existsSync(dir) && fs.readdirSync(dir).some((v) => fs.existsSync(path.join(dir, v, 'model.onnx')) && fs.existsSync(path.join(dir, v, 'card.json')));
}
const HASHING_MODEL = ['hash-cifar10-64bit', 'hash-cifar10-48bit'].find(served);
const MODELS = ['ct-organs-coarse', 'ct-organs-fine', ...(HASHING_MODEL ? [HASHING_MODEL] : [])].join(',');

type Segmentation = {
  id: string;
  status: string;
  geometry: { size: number[]; spacing: number[]; direction: number[] };
  results: Record<string, { label: number; voxels: number }>;
  dice: Record<string, number | null> | null;
};

/** Drops files on an element the way a browser does: a `drop` event carrying a DataTransfer. */
async function dropFiles(page: Page, selector: string, files: string[]): Promise<void> {
  const payload = files.map((f) => ({ name: path.basename(f), base64: fs.readFileSync(f).toString('base64') }));
  const dataTransfer = await page.evaluateHandle((list: { name: string; base64: string }[]) => {
    const transfer = new DataTransfer();
    for (const f of list) transfer.items.add(new File([Uint8Array.from(atob(f.base64), (c: string) => c.charCodeAt(0))], f.name));
    return transfer;
  }, payload);
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
}

/** The RGB pixels of an element as drawn on screen (a WebGL canvas has no readable 2D context). */
async function elementPixels(page: Page, selector: string): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(await page.locator(selector).screenshot()).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

const isOrganColour = (r: number, g: number, b: number) => r - g > 30 || b - g > 30 || (r - b > 30 && g - b > 30);

/** Pixels of the viewer in an organ colour blend (red, blue or yellow), not grey and not the green crosshair. */
async function colouredPixels(page: Page, selector = '#viewer-canvas'): Promise<number> {
  const { data, channels } = await elementPixels(page, selector);
  let count = 0;
  for (let o = 0; o < data.length; o += channels) if (isOrganColour(data[o], data[o + 1], data[o + 2])) count++;
  return count;
}

/** Mean column (0..1 of the width) of the viewer's red-dominant (liver) pixels, and how many. */
async function redPixels(page: Page): Promise<{ count: number; meanColumn: number }> {
  const { data, width, channels } = await elementPixels(page, '#viewer-canvas');
  let count = 0;
  let columns = 0;
  for (let o = 0, p = 0; o < data.length; o += channels, p++) {
    if (data[o] - data[o + 1] > 30 && data[o] - data[o + 2] > 30) {
      count++;
      columns += (p % width) / width;
    }
  }
  return { count, meanColumn: count ? columns / count : NaN };
}

/** Waits for the viewer to have drawn the job's volumes (NiiVue loads them asynchronously). */
async function viewerReady(page: Page, timeout?: number): Promise<void> {
  await page.waitForSelector('#viewer-canvas[data-ready="true"]', { timeout });
  // Let NiiVue finish its first frames.
  await page.waitForTimeout(500);
}

function screenshot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
}

describe('web page (real service, real browser)', () => {
  let api: LumenProcess;
  let context: BrowserContext;
  let page: Page;
  let segmentationId: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: the web page tests need it. Install Debian's package: apt-get update && apt-get install -y chromium (.ci/run does this before npm test)`);
    }
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    api = await startApi({ DATABASE_URL: await createDatabase(), DATA_DIR: tempDir(), MODELS, INFERENCE_THREADS: '2' });
    context = await chromium.launchPersistentContext(tempDir('lumen-chromium-'), { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await api?.stop();
  });

  afterEach(() => {
    // An uncaught exception in the page is a bug even when the visible result looks right.
    expect(pageErrors).toEqual([]);
  });

  it('serves the page and its assets without a key, beside the API, /docs and /health', async () => {
    const anonymous = client(api.url);
    const index = await anonymous.get('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('<title>Lumen</title>');
    const script = await anonymous.get('/assets/js/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    // Organ names, label ids and colours: generated from libs/segmentation, the preview's own.
    const organs = await anonymous.get('/assets/js/organs.js');
    expect(organs.status).toBe(200);
    expect(organs.headers.get('content-type')).toMatch(/javascript/);
    expect(organs.headers.get('content-security-policy')).toContain("script-src 'self'");
    const organsSource = await organs.text();
    expect(organsSource).toContain('export const ORGAN_COLOURS = {"liver":[214,96,77],"spleen":[67,147,195],"pancreas":[240,200,60]};');
    expect(organsSource).toContain('export const ORGAN_LABELS = {"liver":1,"spleen":2,"pancreas":3};');
    // NiiVue's ESM bundle, from node_modules (no CDN), under the same CSP.
    const niivue = await anonymous.get('/assets/vendor/niivue.js');
    expect(niivue.status).toBe(200);
    expect(niivue.headers.get('content-type')).toMatch(/javascript/);
    expect(niivue.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await niivue.text()).toMatch(/export \{[^}]*\bNiivue\b/);

    expect((await anonymous.get('/health/ready')).status).toBe(200);
    expect((await anonymous.get('/docs/openapi.json')).status).toBe(200);
    const jobs = await anonymous.get('/jobs');
    expect(jobs.status).toBe(401);
    expect(jobs.headers.get('content-type')).toMatch(/problem\+json/);
    const missing = await anonymous.get('/assets/no-such-file.js');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/problem\+json/);
    // Only apps/web/assets is reachable under /assets.
    expect((await anonymous.get('/assets/%2e%2e/index.html')).status).toBeGreaterThanOrEqual(400);
  });

  it('asks for the key, shows the problem detail of a wrong one, keeps a right one for the tab', async () => {
    await page.goto(`${api.url}/`);
    expect(await page.isVisible('#key-needed')).toBe(true);
    expect(await page.isHidden('#page-segment')).toBe(true);
    await page.fill('#api-key', 'not-a-key');
    await page.press('#api-key', 'Enter');
    await page.waitForSelector('#key-error:not([hidden])');
    expect(await page.textContent('#key-error')).toBe('The API key is not recognised');

    await page.fill('#api-key', KEYS.segment);
    await page.press('#api-key', 'Enter');
    await page.waitForSelector('#page-segment:not([hidden])');
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('lumen.apiKey'))).toBe(KEYS.segment);
    // A reload keeps the key (sessionStorage), so the page opens directly.
    await page.reload();
    await page.waitForSelector('#page-segment:not([hidden])');
    expect(await page.isHidden('#key-needed')).toBe(true);
  });

  it('labels every control and shows no horizontal scrolling at 390 px', async () => {
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, button')].filter((e: any) => !(e.labels?.length || e.getAttribute('aria-label') || (e.tagName === 'BUTTON' && e.textContent.trim()))).map((e: any) => e.id || e.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('refuses to submit without an image, and shows the API detail for a file that is not a CT', async () => {
    await page.click('#segment-submit');
    expect(await page.textContent('#segment-error')).toContain('Choose a CT image');

    const notACt = path.join(tempDir(), 'notes.txt');
    fs.writeFileSync(notACt, 'not a volume');
    const direct = await client(api.url, KEYS.segment).postForm('/segmentations', (() => {
      const form = new FormData();
      form.append('image', new Blob([fs.readFileSync(notACt)]), 'notes.txt');
      return form;
    })());
    expect(direct.status).toBeGreaterThanOrEqual(400);
    expect(direct.status).toBeLessThan(500);
    const detail = (await direct.json()).detail as string;

    await page.setInputFiles('#image-input', notACt);
    await page.click('#segment-submit');
    await page.waitForFunction(() => !document.querySelector('#segment-error').hidden && document.querySelector('#segment-error').textContent.length > 0);
    expect(await page.textContent('#segment-error')).toContain(detail);
  });

  it('segments the real CT dropped on the page with its reference: upload, live stages, viewer with overlay, statistics, Dice', async () => {
    await dropFiles(page, '#image-drop', [CT]);
    expect(await page.textContent('#image-name')).toContain('abdomen_ct_3mm.nii.gz');
    await page.setInputFiles('#reference-input', CT_REFERENCE);
    await page.fill('#ref-liver', '5');
    await page.fill('#ref-spleen', '1');
    await page.fill('#ref-pancreas', '7');
    await page.click('#segment-submit');

    await page.waitForFunction(() => /^#\/segment\/[0-9a-f-]{36}$/.test((globalThis as any).location.hash));
    segmentationId = (await page.evaluate(() => (globalThis as any).location.hash as string)).split('/')[2];
    expect(await page.evaluate(() => document.querySelector('#upload-progress').value)).toBe(100);
    expect(await page.textContent('#upload-text')).toContain(segmentationId);
    await page.waitForSelector('#job:not([hidden])');
    // The steps follow the job's stage codes: while stage 2 runs, the three steps before it are done.
    await page.waitForFunction(() => document.querySelector('#job-stages li.current')?.textContent?.startsWith('Stage 2: fine tiles'), undefined, { timeout: 280_000 });
    expect(await page.$$eval('#job-stages li.done', (items) => items.map((i) => i.firstChild?.textContent))).toEqual(['Queued', 'Reading the volume', 'Stage 1: coarse segmentation']);
    await screenshot(page, 'web-segmentation-progress.png');

    // The segmentation itself: up to 240 s on a busy machine. The test's timeout adds Playwright's
    // 30 s default for each of the four other waits.
    await viewerReady(page, 240_000);
    expect(await page.textContent('#job-text')).toMatch(/^Succeeded/);
    expect(await page.$$eval('#job-stages li.done', (items) => items.length)).toBeGreaterThanOrEqual(6);

    const api_ = (await (await client(api.url, KEYS.segment).get(`/segmentations/${segmentationId}`)).json()) as Segmentation;
    expect(api_.status).toBe('succeeded');

    // Statistics and Dice tables show the API's numbers.
    for (const [organ, result] of Object.entries(api_.results)) {
      expect(await page.textContent(`#stats-table tr[data-organ="${organ}"] td:nth-of-type(1)`)).toBe(result.voxels.toLocaleString('en'));
      const dice = api_.dice![organ];
      expect(await page.textContent(`#dice-table tr[data-organ="${organ}"] td`)).toBe(dice === null ? 'no reference label' : dice.toFixed(3));
    }
    expect(Object.keys(api_.results).sort()).toEqual(['liver', 'pancreas', 'spleen']);

    // NiiVue holds the CT and the label map on the API's grid, with the server's per-organ voxel counts.
    const loaded = await page.evaluate(() => {
      const viewer = document.querySelector('#viewer-canvas').lumenViewer;
      const found: Record<number, number> = {};
      for (const v of viewer.labels.img) if (v) found[v] = (found[v] ?? 0) + 1;
      return { volumes: viewer.nv.volumes.length, imageDims: viewer.image.hdr.dims.slice(1, 4), labelDims: viewer.labels.hdr.dims.slice(1, 4), found };
    });
    expect(loaded.volumes).toBe(2);
    expect(loaded.imageDims).toEqual(api_.geometry.size);
    expect(loaded.labelDims).toEqual(api_.geometry.size);
    for (const result of Object.values(api_.results)) expect(loaded.found[result.label] ?? 0).toBe(result.voxels);

    // The overlay is drawn (organ colours on the canvas); opacity 0 removes every organ colour.
    const organVoxels = Object.values(api_.results).reduce((sum, r) => sum + r.voxels, 0);
    expect(organVoxels).toBeGreaterThan(0);
    const coloured = await colouredPixels(page);
    expect(coloured).toBeGreaterThan(1000);
    await page.fill('#overlay-opacity', '0');
    await page.waitForTimeout(300);
    expect(await colouredPixels(page)).toBe(0);
    await page.fill('#overlay-opacity', '45');

    // Organ toggles: all off leaves no organ colour, one back on brings its colour back.
    for (const organ of ['liver', 'spleen', 'pancreas']) await page.uncheck(`#organ-toggles input[value="${organ}"]`);
    await page.waitForTimeout(300);
    expect(await colouredPixels(page)).toBe(0);
    await page.check('#organ-toggles input[value="liver"]');
    await page.waitForTimeout(300);
    const liverOnly = await colouredPixels(page);
    expect(liverOnly).toBeGreaterThan(0);
    expect(liverOnly).toBeLessThan(coloured);
    for (const organ of ['spleen', 'pancreas']) await page.check(`#organ-toggles input[value="${organ}"]`);

    // The CT itself is drawn under the overlay (grey levels vary), and window presets change it:
    // the narrower liver window saturates more of the CT to white.
    const greys = async () => {
      const { data, channels } = await elementPixels(page, '#viewer-canvas');
      const levels = new Set<number>();
      let white = 0;
      for (let o = 0; o < data.length; o += channels) {
        if (data[o] !== data[o + 1] || data[o + 1] !== data[o + 2]) continue;
        levels.add(data[o]);
        if (data[o] === 255) white++;
      }
      return { levels: levels.size, white };
    };
    const abdomen = await greys();
    expect(abdomen.levels).toBeGreaterThan(20);
    await page.selectOption('#window-preset', '150,30');
    expect(await page.inputValue('#window-width')).toBe('150');
    await page.waitForTimeout(300);
    expect((await greys()).white).toBeGreaterThan(abdomen.white * 1.2 + 100);
    await page.selectOption('#window-preset', '400,50');

    // The crosshair readout: LPS mm and HU; a click in a view moves it.
    expect(await page.textContent('#viewer-readout')).toMatch(/^Crosshair: LPS -?\d+\.\d, -?\d+\.\d, -?\d+\.\d mm · -?\d+ HU/);
    const before = await page.getAttribute('#viewer-readout', 'data-lps');
    const box = (await page.locator('#viewer-canvas').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.2, box.y + box.height * 0.7);
    await page.waitForFunction((lps: string | null) => document.querySelector('#viewer-readout').dataset.lps !== lps, before);

    // A NIfTI input has no DICOM SEG to download.
    expect(await page.isHidden('#download-dicom-seg')).toBe(true);

    await page.waitForSelector('#preview-figure:not([hidden])');
    expect(await page.evaluate(() => document.querySelector('#preview-image').naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, 'web-segmentation.png');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'web-segmentation-390.png');
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 240_000 + 4 * 30_000);

  it('draws slices in radiological orientation: the liver on the screen left of the axial view', async () => {
    await page.selectOption('#view-layout', 'axial');
    for (const organ of ['spleen', 'pancreas']) await page.uncheck(`#organ-toggles input[value="${organ}"]`);
    await page.waitForTimeout(500);
    const liver = await redPixels(page);
    await screenshot(page, 'web-viewer-axial.png');
    for (const organ of ['spleen', 'pancreas']) await page.check(`#organ-toggles input[value="${organ}"]`);
    await page.selectOption('#view-layout', 'multiplanar');
    // The patient's right (where the liver is) on the screen's left.
    expect(liver.count).toBeGreaterThan(100);
    expect(liver.meanColumn).toBeLessThan(0.5);
  });

  it('lists the key\'s jobs with status, duration and a link that reopens the result', async () => {
    await page.click('nav a[data-page="jobs"]');
    const row = `#jobs-table tr[data-job-id="${segmentationId}"]`;
    await page.waitForSelector(row);
    expect(await page.getAttribute(row, 'data-status')).toBe('succeeded');
    expect(await page.textContent(`${row} td:nth-of-type(5)`)).toMatch(/\d+(\.\d+)? (ms|s)|min/);
    // Only this key's jobs: the failed upload above never became a job.
    expect(await page.$$eval('#jobs-table tbody tr', (rows) => rows.length)).toBe(1);
    await screenshot(page, 'web-jobs.png');
    await page.click(`${row} a`);
    await viewerReady(page);
    expect(await page.textContent('#job-id')).toBe(segmentationId);
    expect(await colouredPixels(page)).toBeGreaterThan(0);
  });

  it('sends a chosen DICOM folder, and many chosen files, as one image part per file', async () => {
    const folder = tempDir();
    const slices = volumeToDicomSeries({ size: [4, 4, 3], spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: new Int16Array(48) }).files;
    slices.forEach((bytes, k) => fs.writeFileSync(path.join(folder, `IM${k}`), bytes));
    fs.writeFileSync(path.join(folder, '.DS_Store'), 'finder junk');
    await page.click('nav a[data-page="segment"]');
    await page.evaluate(() => ((globalThis as any).location.hash = '#/segment'));
    // The upload is answered here, not by the API: only the parts the page sends are looked at.
    await page.route('**/segmentations', (route) =>
      route.fulfill({ status: 400, contentType: 'application/problem+json', body: JSON.stringify({ type: 'urn:lumen:problem:bad-request', title: 'Bad Request', status: 400, detail: 'intercepted by the test' }) }),
    );
    /** Submits the form and returns the `image` parts of the request the page sent. */
    const submittedImageParts = async () => {
      const [request] = await Promise.all([page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/segmentations')), page.click('#segment-submit')]);
      return (request.postDataBuffer()?.toString('latin1') ?? '').match(/name="image"; filename="[^"]*"/g) ?? [];
    };
    try {
      await page.setInputFiles('#image-folder-input', folder);
      expect(await page.textContent('#image-name')).toMatch(/^3 files \(/);
      expect((await submittedImageParts()).sort()).toEqual(['IM0', 'IM1', 'IM2'].map((n) => `name="image"; filename="${n}"`));
      await page.setInputFiles('#image-input', [0, 1].map((k) => path.join(folder, `IM${k}`)));
      expect(await page.textContent('#image-name')).toMatch(/^2 files \(/);
      expect(await submittedImageParts()).toHaveLength(2);
      await page.waitForSelector('#segment-error:not([hidden])');
    } finally {
      await page.unroute('**/segmentations');
    }
  });

  it('segments a DICOM series (a folder chosen on the page), shows the CT the API read from it, and downloads the DICOM SEG', async () => {
    const ct = await readVolume(CT, 1e9);
    const series = volumeToDicomSeries(ct);
    const folder = path.join(tempDir(), 'series');
    fs.mkdirSync(folder);
    series.files.forEach((bytes, k) => fs.writeFileSync(path.join(folder, `${String(k).padStart(3, '0')}.dcm`), bytes));
    await page.click('nav a[data-page="segment"]');
    await page.evaluate(() => ((globalThis as any).location.hash = '#/segment'));
    if (await page.isVisible('#reference-clear')) await page.click('#reference-clear');
    await page.setInputFiles('#image-folder-input', folder);
    await page.check('#fast');
    await page.click('#segment-submit');
    await page.waitForFunction((old: string) => /^#\/segment\/[0-9a-f-]{36}$/.test((globalThis as any).location.hash) && !(globalThis as any).location.hash.includes(old), segmentationId);
    await viewerReady(page, 240_000);
    await page.uncheck('#fast');
    const dicomId = (await page.evaluate(() => (globalThis as any).location.hash as string)).split('/')[2];
    expect(await page.textContent('#job-file')).toMatch(new RegExp(`^${series.files.length} files`));
    // The CT under the overlay is the series as the API read it (/image), not the files sent.
    const dims = await page.evaluate(() => document.querySelector('#viewer-canvas').lumenViewer.image.hdr.dims.slice(1, 4));
    expect(dims).toEqual(ct.size);
    expect(await colouredPixels(page)).toBeGreaterThan(0);

    expect(await page.isVisible('#download-dicom-seg')).toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-dicom-seg')]);
    expect(download.suggestedFilename()).toBe(`${dicomId}_seg.dcm`);
    const bytes = fs.readFileSync((await download.path())!);
    expect(bytes.subarray(128, 132).toString('latin1')).toBe('DICM');
    const seg = parseDicom(new Uint8Array(bytes));
    expect(seg.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.66.4');
    expect(seg.StudyInstanceUID).toBe(series.study);
    await screenshot(page, 'web-dicom-seg.png');
  }, 240_000 + 60_000);

  it('opens the search page with the key\'s collections', async () => {
    await page.click('nav a[data-page="search"]');
    await page.waitForSelector('#page-search:not([hidden])');
    await page.waitForSelector('#collection-select option', { state: 'attached' });
    expect(await page.isHidden('#search-error')).toBe(true);
    await screenshot(page, 'web-search.png');
  });

  (HASHING_MODEL ? it : it.skip)(
    HASHING_MODEL
      ? 'searches: creates a collection, adds images by drag and drop, finds the query image first with thumbnails'
      : 'search — SKIPPED: no hashing model is served (models/hash-cifar10-{64,48}bit/<version>/model.onnx absent), so image search is not available',
    async () => {
      const bits = HASHING_MODEL!.match(/(\d+)bit/)![1];
      await page.click('nav a[data-page="search"]');
      await page.waitForSelector('#page-search:not([hidden])');
      await page.fill('#collection-name', 'web test');
      await page.fill('#collection-bits', bits);
      await page.click('#collection-form button[type="submit"]');
      await page.waitForFunction(() => /web test/.test(document.querySelector('#collection-select').selectedOptions[0]?.textContent ?? ''));

      const files = fs.readdirSync(IMAGES).filter((f) => f.endsWith('.jpg')).sort().slice(0, 8).map((f) => path.join(IMAGES, f));
      await dropFiles(page, '#add-drop', files);
      await page.waitForFunction((n: number) => document.querySelectorAll('#add-results li').length === n, files.length);
      expect(await page.textContent('#add-text')).toContain(`${files.length} added`);

      const query = files[3];
      await dropFiles(page, '#query-drop', [query]);
      await page.fill('#search-k', '5');
      await page.click('#search-submit');
      await page.waitForSelector('#search-results li');
      const hits = await page.$$eval('#search-results li', (items) => items.map((li: any) => ({ distance: Number(li.dataset.distance), name: li.querySelector('.hit-name').textContent, thumb: Boolean(li.querySelector('img.thumb')) })));
      expect(hits).toHaveLength(5);
      // The query itself is in the collection: distance 0 (an identical code may rank beside it).
      expect(hits[0].distance).toBe(0);
      expect(hits.filter((h) => h.distance === 0).map((h) => h.name).join(' ')).toContain(path.basename(query));
      expect(hits.every((h) => h.thumb)).toBe(true);
      expect(hits.map((h) => h.distance)).toEqual([...hits.map((h) => h.distance)].sort((a, b) => a - b));
      await screenshot(page, 'web-search.png');
    },
    120_000,
  );
});
