import 'reflect-metadata';
import { type FieldError, type UploadedFile, readForm } from '@lumen/http';
import { Organ } from '@lumen/segmentation';
import { SegmentationUploadDto } from './segmentations.dto.js';

const file = (field: string): UploadedFile => ({ field, clientName: `${field}.nii`, mimetype: 'application/octet-stream', path: `/tmp/${field}`, size: 1, sha256: 'x' });
const image = file('image');

async function refusal(fields: Record<string, string>, files: UploadedFile[] = [image]) {
  const error = (await readForm(SegmentationUploadDto, { files, fields }).catch((e: unknown) => e)) as { problem: string; message: string; extensions: { errors: FieldError[] } };
  return { problem: error.problem, detail: error.message, fields: [...new Set(error.extensions.errors.map((e) => e.field))] };
}

describe('SegmentationUploadDto', () => {
  it('reads organs (list or JSON), fast and referenceLabels, with defaults', async () => {
    const plain = await readForm(SegmentationUploadDto, { files: [image], fields: {} });
    expect({ organs: plain.organList(), fast: plain.fast, labels: plain.labels() }).toEqual({ organs: Object.values(Organ), fast: undefined, labels: { liver: 1, spleen: 2, pancreas: 3 } });
    const form = await readForm(SegmentationUploadDto, { files: [image, file('reference')], fields: { organs: 'liver, pancreas,liver', fast: '1', referenceLabels: '{"liver":5}' } });
    expect({ organs: form.organList(), fast: form.fast, labels: form.labels() }).toEqual({ organs: ['liver', 'pancreas'], fast: true, labels: { liver: 5 } });
    expect((await readForm(SegmentationUploadDto, { files: [image], fields: { organs: '["spleen"]', fast: 'false' } })).organList()).toEqual(['spleen']);
  });

  it.each([
    ['no image', {}, [], 'image', 'image'],
    ['two images', {}, [image, image], 'image', 'image'],
    ['an unknown organ', { organs: 'liver,heart' }, [image], 'heart', 'organs'],
    ['organs as broken JSON', { organs: '["liver",' }, [image], 'organs', 'organs'],
    ['fast that is not a boolean', { fast: 'maybe' }, [image], 'fast', 'fast'],
    ['referenceLabels that is not JSON', { referenceLabels: '{liver:1' }, [image, file('reference')], 'referenceLabels', 'referenceLabels'],
    ['a negative label id', { referenceLabels: '{"liver":-1}' }, [image, file('reference')], 'referenceLabels', 'referenceLabels'],
    ['referenceLabels without a reference', { referenceLabels: '{"liver":1}' }, [image], 'without a reference', 'referenceLabels'],
    ['an unknown field', { color: 'red' }, [image], 'color', 'color'],
  ])('refuses %s with invalid-request naming the field', async (_what, fields, files, mentions, field) => {
    const answer = await refusal(fields, files);
    expect(answer).toMatchObject({ problem: 'invalid-request', fields: [field] });
    expect(answer.detail).toContain(mentions);
  });
});
