import fs from 'node:fs';
import path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { KEYS, type LumenProcess, ROOT, SHARED_DATA, client, createDatabase, startApi, tempDir } from './support/lumen.js';

// Browser globals used inside page.evaluate callbacks: the project compiles for Node (no DOM lib).
declare const document: any;
declare const DataTransfer: any;
declare const File: any;
declare function atob(data: string): string;

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
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

/** Pixels of a canvas in an organ colour blend (red, blue or yellow), not grey and not the green crosshair. */
function colouredPixels(page: Page, canvasSelector: string): Promise<number> {
  return page.evaluate((selector: string) => {
    const canvas = document.querySelector(selector);
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let o = 0; o < data.length; o += 4) {
      const [r, g, b] = [data[o], data[o + 1], data[o + 2]];
      if (r - g > 30 || b - g > 30 || (r - b > 30 && g - b > 30)) count++;
    }
    return count;
  }, canvasSelector);
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
    await page.waitForSelector('#view-axial-canvas', { timeout: 240_000 });
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

    // The label map the page parsed itself (gunzip + NIfTI-1 in the browser) counts the server's voxels.
    const counts = await page.evaluate(
      async ({ id, key }: { id: string; key: string }) => {
        const { readNifti } = await import('/assets/js/nifti.js' as string);
        const response = await fetch(`/segmentations/${id}/labels`, { headers: { 'X-API-Key': key } });
        const labels = await readNifti(await response.arrayBuffer());
        const found: Record<number, number> = {};
        for (const v of labels.data) if (v) found[v] = (found[v] ?? 0) + 1;
        return { dims: labels.dims as number[], found };
      },
      { id: segmentationId, key: KEYS.segment },
    );
    expect(counts.dims).toEqual(api_.geometry.size);
    for (const result of Object.values(api_.results)) expect(counts.found[result.label] ?? 0).toBe(result.voxels);

    // The overlay is drawn when the organs have voxels; opacity 0 removes every organ colour.
    const organVoxels = Object.values(api_.results).reduce((sum, r) => sum + r.voxels, 0);
    expect(organVoxels).toBeGreaterThan(0);
    const coloured = (await colouredPixels(page, '#view-axial-canvas')) + (await colouredPixels(page, '#view-coronal-canvas')) + (await colouredPixels(page, '#view-sagittal-canvas'));
    expect(coloured).toBeGreaterThan(0);
    await page.fill('#overlay-opacity', '0');
    expect(await colouredPixels(page, '#view-axial-canvas')).toBe(0);
    await page.fill('#overlay-opacity', '45');

    // The CT itself is drawn under the overlay (grey levels vary), and window presets change it.
    const greyLevels = () =>
      page.evaluate(() => {
        const canvas = document.querySelector('#view-axial-canvas');
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        const levels = new Set<number>();
        for (let o = 0; o < data.length; o += 4) if (data[o] === data[o + 1] && data[o + 1] === data[o + 2]) levels.add(data[o]);
        return [...levels].sort((a, b) => a - b).join(',');
      });
    const abdomen = await greyLevels();
    expect(abdomen.split(',').length).toBeGreaterThan(20);
    await page.selectOption('#window-preset', '150,30');
    expect(await page.inputValue('#window-width')).toBe('150');
    expect(await greyLevels()).not.toBe(abdomen);
    await page.selectOption('#window-preset', '400,50');

    // Sliders are keyboard operable and move the slice.
    const before = await page.textContent('#view-axial output');
    await page.focus('#view-axial-slice');
    await page.keyboard.press('ArrowRight');
    expect(await page.textContent('#view-axial output')).not.toBe(before);

    await page.waitForSelector('#preview-figure:not([hidden])');
    expect(await page.evaluate(() => document.querySelector('#preview-image').naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, 'web-segmentation.png');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'web-segmentation-390.png');
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 240_000 + 4 * 30_000);

  it('draws slices in radiological orientation: the reference liver on the screen left of the axial view', async () => {
    const geometry = ((await (await client(api.url, KEYS.segment).get(`/segmentations/${segmentationId}`)).json()) as Segmentation).geometry;
    const found = await page.evaluate(
      async ({ base64, direction, spacing }: { base64: string; direction: number[]; spacing: number[] }) => {
        const { readNifti } = await import('/assets/js/nifti.js' as string);
        const { axisMapping, viewPlane, renderSlice, labelSummary } = await import('/assets/js/slices.js' as string);
        const bytes = Uint8Array.from(atob(base64), (c: string) => c.charCodeAt(0));
        const labels = await readNifti(bytes.buffer);
        const counts = Object.fromEntries(labelSummary(labels.data, labels.dims).counts);
        // Liver alone, in red, on the axial slice through the liver's centre.
        const liver = new Uint8Array(labels.data.length);
        const centre = [0, 0, 0];
        let n = 0;
        for (let v = 0; v < liver.length; v++) {
          if (labels.data[v] !== 5) continue;
          liver[v] = 1;
          centre[0] += v % labels.dims[0];
          centre[1] += Math.floor(v / labels.dims[0]) % labels.dims[1];
          centre[2] += Math.floor(v / (labels.dims[0] * labels.dims[1]));
          n++;
        }
        const plane = viewPlane('axial', axisMapping(direction), labels.dims, spacing);
        const rgba = new Uint8ClampedArray(plane.width * plane.height * 4);
        renderSlice(rgba, plane, labels.dims, Math.round(centre[plane.fixed.axis] / n), null, liver, { windowWidth: 400, windowLevel: 50, opacity: 1, colours: new Map([[1, [255, 0, 0]]]) });
        let columns = 0;
        let red = 0;
        for (let p = 0; p < plane.width * plane.height; p++) {
          if (rgba[p * 4] === 255) {
            columns += p % plane.width;
            red++;
          }
        }
        return { counts, meanColumn: columns / red, width: plane.width, red };
      },
      { base64: fs.readFileSync(CT_REFERENCE).toString('base64'), direction: geometry.direction, spacing: geometry.spacing },
    );
    // The data's README: liver (5) 38,634 voxels, spleen (1) 9,452, pancreas (7) 644.
    expect(found.counts[5]).toBe(38634);
    expect(found.counts[1]).toBe(9452);
    expect(found.counts[7]).toBe(644);
    expect(found.red).toBeGreaterThan(0);
    expect(found.meanColumn).toBeLessThan(found.width / 2);
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
    await page.waitForSelector('#view-axial-canvas');
    expect(await page.textContent('#job-id')).toBe(segmentationId);
    expect(await colouredPixels(page, '#view-axial-canvas')).toBeGreaterThan(0);
  });

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
