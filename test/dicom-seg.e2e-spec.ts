import fs from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { readVolume } from '@lumen/volumes';
import { dciodvfyErrors, items, parseDicom, segToLabelMap, volumeToDicomSeries } from './support/dicom-seg.js';
import { API_READY_MS, KEYS, type LumenProcess, SHARED_DATA, client, createDatabase, startApi, tempDir, waitFor } from './support/lumen.js';

const CT = path.join(SHARED_DATA, 'ct', 'abdomen_ct_3mm.nii.gz');
const TINY_DICOM = path.join(SHARED_DATA, 'ct', 'tiny_dicom_series');
const SNOMED: Record<string, string> = { liver: '10200004', spleen: '78961009', pancreas: '15776009' };
const LABELS: Record<string, number> = { liver: 1, spleen: 2, pancreas: 3 };

/** Longest wait for one (fast) segmentation on a busy 2-core machine; tests that wait get a minute more. */
const SEGMENTATION_MS = 240_000;
const SEGMENTATION_TEST_MS = SEGMENTATION_MS + 60_000;

type Segmentation = {
  id: string;
  status: string;
  geometry: { size: [number, number, number]; spacing: [number, number, number]; origin: [number, number, number]; direction: number[] };
  results: Record<string, { label: number; voxels: number }> | null;
  dicomSeg: { available: boolean; problem?: string; segments?: { organ: string; frames: number }[]; frames?: number } | null;
  links: Record<string, string>;
  error: unknown;
};

function upload(bytes: Uint8Array, name: string, fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  body.append('image', new Blob([bytes]), name);
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  return body;
}

describe('DICOM SEG output (GET /segmentations/{id}/dicom-seg)', () => {
  let api: LumenProcess;
  let work: string;
  const lab = () => client(api.url, KEYS.segment);

  beforeAll(async () => {
    work = tempDir('lumen-dicom-seg-');
    api = await startApi({ DATABASE_URL: await createDatabase(), DATA_DIR: path.join(work, 'data'), MODELS: 'ct-organs-coarse,ct-organs-fine', INFERENCE_THREADS: '2' });
  }, API_READY_MS + 60_000);
  afterAll(async () => {
    await api?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  async function finished(id: string): Promise<Segmentation> {
    return waitFor(`segmentation ${id}`, async () => {
      const s = (await (await lab().get(`/segmentations/${id}`)).json()) as Segmentation;
      return ['succeeded', 'failed', 'canceled'].includes(s.status) ? s : undefined;
    }, SEGMENTATION_MS, 500);
  }

  it('returns a SEG for a DICOM series that validates, references the source series and equals the label map voxel for voxel', async () => {
    // The fixture: the shared test CT written as a DICOM series (one CT Image file per slice) with dcmjs.
    const ct = await readVolume(CT, 1e9);
    const source = volumeToDicomSeries(ct);
    const zip = zipSync(Object.fromEntries(source.files.map((bytes, k) => [`ct/slice-${String(k).padStart(3, '0')}.dcm`, bytes])));
    const created = await lab().postForm('/segmentations', upload(zip, 'ct-series.zip', { fast: 'true' }));
    expect(created.status).toBe(202);
    const { id, links } = (await created.json()) as Segmentation;
    expect(links.dicomSeg).toBe(`/segmentations/${id}/dicom-seg`);
    const done = await finished(id);
    expect([done.status, done.error]).toEqual(['succeeded', null]);
    const found = Object.entries(done.results!).filter(([, r]) => r.voxels > 0).map(([organ]) => organ);
    expect(found.length).toBeGreaterThan(0);
    expect(done.dicomSeg).toMatchObject({ available: true, segments: found.map((organ) => expect.objectContaining({ organ })) });

    const response = await lab().get(`/segmentations/${id}/dicom-seg`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/dicom');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${id}_seg.dcm"`);
    const bytes = new Uint8Array(await response.arrayBuffer());

    const { errors, output } = dciodvfyErrors(bytes);
    expect({ errors, output: errors.length ? output : '' }).toEqual({ errors: [], output: '' });

    const seg = parseDicom(bytes);
    expect(seg.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.66.4');
    expect(seg.Modality).toBe('SEG');
    expect(seg.StudyInstanceUID).toBe(source.study);
    expect(seg.FrameOfReferenceUID).toBe(source.frameOfReference);
    expect(seg.PatientID).toBe('LUMEN-TEST');
    const referenced = items(seg.ReferencedSeriesSequence)[0];
    expect(referenced.SeriesInstanceUID).toBe(source.series);
    expect(items(referenced.ReferencedInstanceSequence).map((i) => i.ReferencedSOPInstanceUID).sort()).toEqual([...source.instances].sort());

    // One segment per organ found, SNOMED CT coded, category Anatomical Structure.
    const segments = items(seg.SegmentSequence);
    expect(segments.map((s) => String(s.SegmentLabel).toLowerCase())).toEqual(found);
    for (const s of segments) {
      const organ = String(s.SegmentLabel).toLowerCase();
      expect(items(s.SegmentedPropertyTypeCodeSequence)[0]).toMatchObject({ CodeValue: SNOMED[organ], CodingSchemeDesignator: 'SCT' });
      expect(items(s.SegmentedPropertyCategoryCodeSequence)[0]).toMatchObject({ CodeValue: '123037004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' });
    }

    // Each frame lies on a source slice and references that slice's SOP Instance.
    const frames = items(seg.PerFrameFunctionalGroupsSequence);
    expect(frames).toHaveLength(Number(seg.NumberOfFrames));
    for (const frame of frames) {
      const z = Number(items(frame.PlanePositionSequence)[0].ImagePositionPatient[2]);
      const k = Math.round((z - ct.origin[2]) / ct.spacing[2]);
      expect(Math.abs(ct.origin[2] + k * ct.spacing[2] - z)).toBeLessThan(1e-3);
      expect(items(items(frame.DerivationImageSequence)[0].SourceImageSequence)[0].ReferencedSOPInstanceUID).toBe(source.instances[k]);
    }

    // Read back, the segments equal the served label map voxel for voxel.
    const labelsFile = path.join(work, `${id}.nii.gz`);
    fs.writeFileSync(labelsFile, new Uint8Array(await (await lab().get(`/segmentations/${id}/labels`)).arrayBuffer()));
    const labels = await readVolume(labelsFile, 1e9);
    const back = segToLabelMap(seg, done.geometry, (s) => LABELS[String(s.SegmentLabel).toLowerCase()]);
    let differing = 0;
    for (let i = 0; i < back.length; i++) if (back[i] !== labels.data[i]) differing++;
    expect([back.length, differing]).toEqual([labels.data.length, 0]);

    // /image: the series as the worker read it (NIfTI), for viewers that do not read DICOM.
    const image = await lab().get(`/segmentations/${id}/image`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-disposition')).toBe(`attachment; filename="${id}_image.nii.gz"`);
    const imageFile = path.join(work, `${id}_image.nii.gz`);
    fs.writeFileSync(imageFile, new Uint8Array(await image.arrayBuffer()));
    const read = await readVolume(imageFile, 1e9);
    expect(read.size).toEqual(ct.size);
    expect(Array.from(read.data).every((v, i) => v === ct.data[i])).toBe(true);
  }, SEGMENTATION_TEST_MS);

  it('answers 409 problem+json for a NIfTI input, saying why', async () => {
    const created = await lab().postForm('/segmentations', upload(new Uint8Array(fs.readFileSync(CT)), 'abdomen.nii.gz', { fast: 'true' }));
    expect(created.status).toBe(202);
    const { id, links } = (await created.json()) as Segmentation;
    expect(links.dicomSeg).toBeUndefined();
    const response = await lab().get(`/segmentations/${id}/dicom-seg`);
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = await response.json();
    expect(problem).toMatchObject({ type: 'urn:lumen:problem:dicom-seg-needs-dicom-input', status: 409, inputFormat: 'nifti-gz' });
    expect(problem.detail).toMatch(/not from DICOM.*references the source study, series, instances and frame of reference/);
    expect((await lab().delete(`/segmentations/${id}`)).status).toBe(204);
  });

  it('answers 409 with the reason when the DICOM input cannot carry a SEG (no organ found in a 16×16 series sent as file parts)', async () => {
    // The files as many `image` parts (a folder dropped on the page), not a zip.
    const names = fs.readdirSync(TINY_DICOM).sort().slice(1);
    const body = new FormData();
    for (const n of names) body.append('image', new Blob([new Uint8Array(fs.readFileSync(path.join(TINY_DICOM, n)))]), n);
    body.append('fast', 'true');
    const created = await lab().postForm('/segmentations', body);
    expect(created.status).toBe(202);
    const { id, links } = (await created.json()) as Segmentation;
    expect(links.dicomSeg).toBe(`/segmentations/${id}/dicom-seg`);
    const done = await finished(id);
    expect(done.status).toBe('succeeded');
    expect(done.geometry.size).toEqual([16, 16, names.length]);
    // /image serves the series as read from the parts.
    const image = await lab().get(`/segmentations/${id}/image`);
    expect([image.status, image.headers.get('content-disposition')]).toEqual([200, `attachment; filename="${id}_image.nii.gz"`]);
    expect(Object.values(done.results!).every((r) => r.voxels === 0)).toBe(true);
    expect(done.dicomSeg).toMatchObject({ available: false, problem: 'no-organs-found' });
    const response = await lab().get(`/segmentations/${id}/dicom-seg`);
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ type: 'urn:lumen:problem:dicom-seg-unavailable', reason: 'no-organs-found' });
    expect(fs.existsSync(path.join(work, 'data', 'segmentations', id, 'dicom-seg.dcm'))).toBe(false);
  }, SEGMENTATION_TEST_MS);
});
