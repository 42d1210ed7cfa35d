import fs from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { type Schemas, file as part, lumenApi, ok, problem } from './support/api.js';
import { KEYS, SHARED_DATA, client, readNifti, useSegmentationApi, waitFor } from './support/lumen.js';

const CT = path.join(SHARED_DATA, 'ct', 'abdomen_ct_3mm.nii.gz');
const CT_REFERENCE = path.join(SHARED_DATA, 'ct', 'abdomen_ct_3mm_reference_labels.nii.gz');
const DICOM_DIR = path.join(SHARED_DATA, 'ct', 'tiny_dicom_series');
const FIXTURES = path.resolve(import.meta.dirname, 'fixtures', 'ct');

type Segmentation = Schemas['SegmentationDto'];
type Upload = Schemas['SegmentationUploadDto'];

function form(files: Record<string, { bytes: Uint8Array; name: string }>, fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  for (const [field, file] of Object.entries(files)) body.append(field, new Blob([file.bytes]), file.name);
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  return body;
}

const file = (p: string, name = path.basename(p)) => ({ bytes: new Uint8Array(fs.readFileSync(p)), name });
/** A file on disk as a part of a typed multipart body. */
const upload = (p: string) => part(new Uint8Array(fs.readFileSync(p)), path.basename(p));

/** A little NRRD written by hand: lets tests make 2D, 4D and inconsistent volumes. */
function nrrd(sizes: number[], dataBytes: number, type = 'short'): { bytes: Uint8Array; name: string } {
  const header = `NRRD0004\ntype: ${type}\ndimension: ${sizes.length}\nsizes: ${sizes.join(' ')}\nencoding: raw\nendian: little\n\n`;
  return { bytes: new Uint8Array([...Buffer.from(header), ...new Uint8Array(dataBytes)]), name: 'volume.nrrd' };
}

/** Longest wait for one segmentation on a busy 2-core machine; a test that waits for one gets this plus a minute. */
const SEGMENTATION_MS = 240_000;
const SEGMENTATION_TEST_MS = SEGMENTATION_MS + 60_000;

describe('segmentation (real CT, real models, real PostgreSQL)', () => {
  const served = useSegmentationApi();
  const lab = () => client(served.api().url, KEYS.segment);
  const segment = () => lumenApi(served.api().url, KEYS.segment);
  const create = (body: Upload) => ok(segment().POST('/segmentations', { body }), 202);

  async function finished(id: string, timeoutMs = SEGMENTATION_MS): Promise<Segmentation> {
    return waitFor(`segmentation ${id}`, async () => {
      const s = await ok(segment().GET('/segmentations/{id}', { params: { path: { id } } }));
      return ['succeeded', 'failed', 'canceled'].includes(s.status) ? s : undefined;
    }, timeoutMs, 500);
  }

  function expectNoLeftovers(id?: string) {
    const uploads = path.join(served.dataDir(), 'tmp', 'uploads');
    expect(fs.existsSync(uploads) ? fs.readdirSync(uploads) : []).toEqual([]);
    if (id) expect(fs.existsSync(path.join(served.dataDir(), 'segmentations', id))).toBe(false);
  }

  it('segments the real CT: labels on the input grid, statistics, Dice against the reference, preview', async () => {
    const created = await create({ image: [upload(CT)], reference: upload(CT_REFERENCE), referenceLabels: '{"liver":5,"spleen":1,"pancreas":7}' });
    expect(created.geometry!.size).toEqual([122, 101, 30]);
    expect(created.stageCode).toBe('queued');
    const done = await finished(created.id);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'succeeded', stageCode: 'done' });
    expect(done.results!.liver.voxels).toBeGreaterThan(0);
    // A liver is somewhere between 0.5 and 4 litres; this scan covers the upper abdomen only.
    expect(done.results!.liver.volumeMl).toBeGreaterThan(100);
    expect(done.results!.liver.volumeMl).toBeLessThan(4000);
    for (const organ of ['liver', 'spleen', 'pancreas']) expect(typeof done.dice![organ]).toBe('number');
    expect(done.stage2!.tiles).toBeGreaterThan(0);
    expect(done.stage2!.tiles).toBeLessThanOrEqual(done.stage2!.tilesTotal);

    const labels = await segment().GET('/segmentations/{id}/labels', { params: { path: { id: created.id } }, parseAs: 'arrayBuffer' });
    expect(labels.response.status).toBe(200);
    expect(labels.response.headers.get('content-type')).toBe('application/gzip');
    const header = readNifti(Buffer.from(labels.data!));
    expect(header.dims).toEqual([122, 101, 30]);
    expect(header.datatype).toBe(2); // uint8
    const input = readNifti(fs.readFileSync(CT));
    expect(header.pixdim).toEqual(input.pixdim);
    // Same sform (srow_x/y/z at bytes 280..327): same origin and direction cosines.
    expect(header.raw.subarray(280, 328).equals(input.raw.subarray(280, 328))).toBe(true);

    const preview = await segment().GET('/segmentations/{id}/preview', { params: { path: { id: created.id } }, parseAs: 'arrayBuffer' });
    expect(preview.response.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(preview.data!)).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(200);
    expectNoLeftovers();
  }, SEGMENTATION_TEST_MS);

  it("reproduces the cards' real-CT Dice per organ for stage 1 alone and the cascade, and the cascade is at least as good on every organ", async () => {
    // The card figures come from training/ct/evaluate_word.py (the Python reference of this
    // pipeline); inference is deterministic, so the API must land within 0.005 of them.
    type Card = { metrics: { realCT: { stage1Dice: Record<string, number>; cascadeDice: Record<string, number> } } };
    const cardOf = async (name: string) => (await ok(segment().GET('/models/{name}', { params: { path: { name } } }))).card as unknown as Card;
    const { realCT } = (await cardOf('ct-organs-fine')).metrics;
    const submit = async (fields: Partial<Upload>) => {
      const created = await create({ image: [upload(CT)], reference: upload(CT_REFERENCE), referenceLabels: '{"liver":5,"spleen":1,"pancreas":7}', ...fields });
      return finished(created.id);
    };
    const [stage1, cascade] = [await submit({ fast: 'true' }), await submit({})];
    expect(stage1.stage2).toBeNull();
    for (const organ of ['liver', 'spleen', 'pancreas']) {
      // closeTo(x, 2): |received - x| < 0.005
      expect({ organ, stage1: stage1.dice![organ] }).toEqual({ organ, stage1: expect.closeTo(realCT.stage1Dice[organ], 2) });
      expect({ organ, cascade: cascade.dice![organ] }).toEqual({ organ, cascade: expect.closeTo(realCT.cascadeDice[organ], 2) });
      expect({ organ, cascadeAtLeastStage1: cascade.dice![organ]! >= stage1.dice![organ]! }).toEqual({ organ, cascadeAtLeastStage1: true });
    }
  }, 2 * SEGMENTATION_TEST_MS);

  it('keeps a non-trivially oriented (PSR) phantom on its grid and finds its organs', async () => {
    const created = await create({ image: [upload(path.join(FIXTURES, 'phantom_psr.nii.gz'))], reference: upload(path.join(FIXTURES, 'phantom_psr_labels.nii.gz')) });
    const done = await finished(created.id);
    expect(done.status).toBe('succeeded');
    expect(done.geometry!.size).toEqual([80, 35, 91]);
    const labels = readNifti(Buffer.from((await segment().GET('/segmentations/{id}/labels', { params: { path: { id: created.id } }, parseAs: 'arrayBuffer' })).data!));
    expect(labels.dims).toEqual([80, 35, 91]);
    // Wrong orientation handling would put the organs elsewhere: Dice would collapse.
    expect(done.dice!.liver).toBeGreaterThan(0.7);
  }, SEGMENTATION_TEST_MS);

  it('runs stage 1 only when fast, for the chosen organs', async () => {
    const created = await create({ image: [upload(path.join(FIXTURES, 'phantom_ras.nii.gz'))], fast: 'true', organs: 'liver,spleen' });
    const done = await finished(created.id);
    expect(done.status).toBe('succeeded');
    expect(done.stage2).toBeNull();
    expect(Object.keys(done.results!).sort()).toEqual(['liver', 'spleen']);
  }, SEGMENTATION_TEST_MS);

  it('reads a DICOM series zip with its real slice geometry, and refuses unevenly spaced slices', async () => {
    const files = fs.readdirSync(DICOM_DIR).sort();
    const zip = (names: string[]) => part(zipSync(Object.fromEntries(names.map((n) => [`series/${n}`, new Uint8Array(fs.readFileSync(path.join(DICOM_DIR, n)))]))), 'series.zip');
    const uneven = await problem(segment().POST('/segmentations', { body: { image: [zip(files)] } }), 422, 'uneven-slice-spacing');
    expect(uneven.slicePositionsMm).toEqual([-99.48, 103.02, 104.27, 105.52]);

    const created = await create({ image: [zip(files.slice(1))] });
    expect(created.geometry!.size).toEqual([16, 16, 3]);
    expect(created.geometry!.spacing[2]).toBeCloseTo(1.25, 2);
    expect(created.geometry!.origin[2]).toBeCloseTo(103.02, 2);
    expect((await finished(created.id)).status).toBe('succeeded');
  }, SEGMENTATION_TEST_MS);

  it('lists the series of a zip holding several and segments the one chosen', async () => {
    const files = fs.readdirSync(DICOM_DIR).sort().slice(1);
    const original = '1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.2';
    const other = '1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.9';
    const entries: Record<string, Uint8Array> = {};
    for (const n of files) {
      const bytes = fs.readFileSync(path.join(DICOM_DIR, n));
      entries[`a/${n}`] = new Uint8Array(bytes);
      entries[`b/${n}`] = new Uint8Array(Buffer.from(bytes.toString('latin1').split(original).join(other), 'latin1'));
    }
    const zip = () => part(zipSync(entries), 'two-series.zip');
    const several = await problem(segment().POST('/segmentations', { body: { image: [zip()] } }), 422, 'multiple-series');
    expect((several.series as { seriesUid: string }[]).map((s) => s.seriesUid).sort()).toEqual([original, other]);
    const { id } = await create({ image: [zip()], seriesUid: other });
    expectNoLeftovers();
    // Deleting removes the record and every file of the job, even while it runs.
    expect(fs.existsSync(path.join(served.dataDir(), 'segmentations', id))).toBe(true);
    await ok(segment().DELETE('/segmentations/{id}', { params: { path: { id } } }), 204);
    await problem(segment().GET('/segmentations/{id}', { params: { path: { id } } }), 404);
    expect(fs.existsSync(path.join(served.dataDir(), 'segmentations', id))).toBe(false);
  });

  describe('bad input gets a clear 4xx and leaves no file behind', () => {
    const cases: [string, () => FormData, number, string][] = [
      ['bytes that are not a volume', () => form({ image: { bytes: new Uint8Array(Buffer.from('hello, not a volume at all, just some text')), name: 'scan.nii' } }), 422, 'unreadable-volume'],
      ['bytes that are not gzip, named .nii.gz', () => form({ image: { bytes: new Uint8Array(Buffer.from('hello, not a volume')), name: 'scan.nii.gz' } }), 422, 'corrupt-gzip'],
      ['a truncated gzip', () => form({ image: { bytes: new Uint8Array(fs.readFileSync(CT).subarray(0, 40000)), name: 'ct.nii.gz' } }), 422, 'corrupt-gzip'],
      ['a 2D image', () => form({ image: nrrd([16, 16], 512) }), 422, 'not-a-3d-volume'],
      ['a 4D image', () => form({ image: nrrd([8, 8, 8, 2], 2048) }), 422, 'not-a-3d-volume'],
      ['a header claiming billions of voxels', () => form({ image: nrrd([4000, 4000, 4000], 16) }), 413, 'volume-too-large'],
      ['an unsupported extension', () => form({ image: { bytes: new Uint8Array(10), name: 'scan.png' } }), 415, 'unsupported-volume-format'],
      ['an empty file', () => form({ image: { bytes: new Uint8Array(0), name: 'scan.nii.gz' } }), 422, 'empty-file'],
      ['an empty zip', () => form({ image: { bytes: zipSync({}), name: 'series.zip' } }), 422, 'empty-zip'],
      ['a zip with a path-traversal entry', () => form({ image: { bytes: zipSync({ '../evil.dcm': new Uint8Array(10) }), name: 'series.zip' } }), 422, 'unsafe-zip-entry'],
      ['a zip without DICOM', () => form({ image: { bytes: zipSync({ 'a.txt': new Uint8Array(Buffer.from('text')) }), name: 'series.zip' } }), 422, 'no-dicom-files'],
      ['a reference on another grid', () => form({ image: file(CT), reference: file(path.join(FIXTURES, 'phantom_lps_labels.nii.gz')) }), 422, 'reference-grid-mismatch'],
      ['no image', () => form({ reference: file(CT_REFERENCE) }), 400, 'invalid-request'],
      ['an unknown organ', () => form({ image: file(CT) }, { organs: 'liver,heart' }), 400, 'invalid-request'],
      ['an unknown field', () => form({ image: file(CT) }, { colour: 'red' }), 400, 'invalid-request'],
      ['malformed referenceLabels', () => form({ image: file(CT), reference: file(CT_REFERENCE) }, { referenceLabels: '{liver:5' }), 400, 'invalid-request'],
    ];
    it.each(cases)('%s', async (_name, body, status, problem) => {
      const before = fs.existsSync(path.join(served.dataDir(), 'segmentations')) ? fs.readdirSync(path.join(served.dataDir(), 'segmentations')).length : 0;
      const response = await lab().postForm('/segmentations', body());
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const body_ = await response.json();
      expect(body_.type).toBe(`urn:lumen:problem:${problem}`);
      expect(body_.detail.length).toBeGreaterThan(10);
      const after = fs.existsSync(path.join(served.dataDir(), 'segmentations')) ? fs.readdirSync(path.join(served.dataDir(), 'segmentations')).length : 0;
      expect(after).toBe(before);
      expectNoLeftovers();
      expect((await fetch(`${served.api().url}/health/ready`)).status).toBe(200);
    });

    it('a header whose data is short fails the job with that message', async () => {
      const response = await lab().postForm('/segmentations', form({ image: nrrd([32, 32, 32], 100) }));
      if (response.status === 202) {
        const done = await finished(((await response.json()) as Segmentation).id);
        expect(done.status).toBe('failed');
        expect(done.error!.message).toMatch(/read|voxels/);
      } else {
        expect(response.status).toBe(422);
      }
    }, SEGMENTATION_TEST_MS);

    it('rejects callers without the segment scope, and hides jobs of other keys', async () => {
      expect((await client(served.api().url, KEYS.search).postForm('/segmentations', form({ image: file(CT) }))).status).toBe(403);
      const page = await (await lab().get('/jobs?kind=segmentation&limit=1')).json();
      const id = page.items[0].id;
      expect((await client(served.api().url, KEYS.otherSearch).get(`/segmentations/${id}`)).status).toBe(404);
      expect((await client(served.api().url, KEYS.otherSearch).get(`/segmentations/${id}/labels`)).status).toBe(404);
    });
  });
});
