import { HttpStatus } from '@nestjs/common';
import { COLLECTION_ERROR_CODES, CollectionError } from '@lumen/collections';
import { DomainError } from '@lumen/errors';
import { HASHING_ERROR_CODES, HashingModelError, IMAGE_ERROR_CODES, ImageRejectedError } from '@lumen/hashing';
import { HYPERGRAPH_ERROR_CODES } from '@lumen/hypergraph';
import { MODEL_ERROR_CODES, ModelError } from '@lumen/inference';
import { JOB_ERROR_CODES } from '@lumen/jobs';
import { SEGMENTATION_ERROR_CODES } from '@lumen/segmentation';
import { VOLUME_ERROR_CODES, VolumeError } from '@lumen/volumes';
import { DOMAIN_PROBLEMS, type DomainErrorCode, isDatabaseUnavailable, toProblem } from './problem.filter.js';
import { ProblemException } from './problem.js';

const request = { url: '/jobs', id: 'req-1' };

describe('toProblem: database outages', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a refused dual-stack connection (AggregateError)', Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], ''), {})],
    ['a server shutdown (57P01)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['a terminated socket', new Error('Connection terminated unexpectedly')],
    ['Prisma P1001', Object.assign(new Error("Can't reach database server"), { code: 'P1001' })],
    ['Prisma P1017', Object.assign(new Error('Server has closed the connection.'), { code: 'P1017' })],
    ['a driver adapter error kind', Object.assign(new Error('DriverAdapterError'), { cause: { kind: 'DatabaseNotReachable' } })],
    ['a pool connect timeout in the cause chain', new Error('query failed', { cause: new Error('timeout exceeded when trying to connect') })],
  ])('maps %s to 503 database-unavailable', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(toProblem(error, request)).toMatchObject({ status: 503, type: 'urn:lumen:problem:database-unavailable' });
  });

  it('keeps other errors as a 500 that reveals nothing', () => {
    const problem = toProblem(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }), request);
    expect(problem).toMatchObject({ status: 500, type: 'urn:lumen:problem:internal' });
    expect(problem.detail).not.toContain('duplicate');
    expect(isDatabaseUnavailable(new TypeError('x is undefined'))).toBe(false);
  });

  it('leaves HTTP exceptions as they are', () => {
    expect(toProblem(new ProblemException(HttpStatus.NOT_FOUND, 'job-not-found', 'No job 7'), request)).toMatchObject({ status: 404, type: 'urn:lumen:problem:job-not-found' });
  });
});

describe('toProblem: domain errors', () => {
  const everyCode: string[] = [
    ...VOLUME_ERROR_CODES,
    ...IMAGE_ERROR_CODES,
    ...HASHING_ERROR_CODES,
    ...COLLECTION_ERROR_CODES,
    ...MODEL_ERROR_CODES,
    ...HYPERGRAPH_ERROR_CODES,
    ...SEGMENTATION_ERROR_CODES,
    ...JOB_ERROR_CODES,
  ];

  it('maps every code of every domain, and nothing else', () => {
    expect(Object.keys(DOMAIN_PROBLEMS).sort()).toEqual([...everyCode].sort());
  });

  it.each(everyCode)('answers %s with its status, type, title and the detail', (code) => {
    const { status, type } = DOMAIN_PROBLEMS[code as DomainErrorCode];
    expect(status === 503 || (status >= 400 && status < 500)).toBe(true);
    expect(toProblem(new DomainError(code, `about ${code}`), request)).toEqual({
      type: `urn:lumen:problem:${type}`,
      title: expect.not.stringMatching(/^Error$/),
      status,
      detail: `about ${code}`,
      instance: '/jobs',
      requestId: 'req-1',
    });
  });

  it.each([
    ['volume.too-large', 413, 'volume-too-large', 'Content Too Large'],
    ['volume.multiple-series', 422, 'multiple-series', 'Unprocessable Content'],
    ['volume.gantry-tilt', 422, 'gantry-tilt', 'Unprocessable Content'],
    ['volume.unsupported-transfer-syntax', 415, 'unsupported-transfer-syntax', 'Unsupported Media Type'],
    ['image.unsupported-format', 415, 'unsupported-image-format', 'Unsupported Media Type'],
    ['collection.invalid-search', 400, 'invalid-request', 'Bad Request'],
    ['collection.not-found', 404, 'collection-not-found', 'Not Found'],
    ['collection.model-version-changed', 409, 'model-version-changed', 'Conflict'],
    ['model.unavailable', 503, 'model-unavailable', 'Service Unavailable'],
    ['hypergraph.malformed-candidates', 400, 'invalid-request', 'Bad Request'],
    ['job.not-found', 404, 'job-not-found', 'Not Found'],
    ['segmentation.dicom-seg-needs-dicom-input', 409, 'dicom-seg-needs-dicom-input', 'Conflict'],
    ['segmentation.dicom-seg-unavailable', 409, 'dicom-seg-unavailable', 'Conflict'],
  ])('keeps the wire answer of %s: %i %s', (code, status, type, title) => {
    expect(toProblem(new DomainError(code, 'x'), request)).toMatchObject({ status, type: `urn:lumen:problem:${type}`, title });
  });

  it('lists the field at fault, or the errors given, and spreads structured details', () => {
    expect(toProblem(new CollectionError('collection.invalid-search', 'maxDistance must be at most 16', 'maxDistance'), request)).toMatchObject({
      status: 400,
      errors: [{ field: 'maxDistance', message: 'maxDistance must be at most 16' }],
    });
    const bits = new HashingModelError('hashing.unsupported-bits', 'No model for 12 bits; served: 48, 64', { errors: [{ field: 'bits', message: 'bits must be one of 48, 64' }] });
    expect(toProblem(bits, request)).toMatchObject({ status: 400, detail: 'No model for 12 bits; served: 48, 64', errors: [{ field: 'bits', message: 'bits must be one of 48, 64' }] });
    expect(toProblem(new VolumeError('volume.too-large', 'too many voxels', { voxels: 9, maxVoxels: 8 }), request)).toMatchObject({ status: 413, voxels: 9, maxVoxels: 8 });
  });

  it('names a refused upload by its form field and file name', () => {
    const refused = new ImageRejectedError('image.undecodable', 'the PNG data does not decode').about({ field: 'image', clientName: 'cat.png' });
    const problem = toProblem(refused, request);
    expect(problem).toMatchObject({ status: 422, type: 'urn:lumen:problem:undecodable-image', detail: 'image "cat.png": the PNG data does not decode', field: 'image' });
    expect(problem.errors).toBeUndefined();
    expect(toProblem(new ImageRejectedError('image.empty', 'the file is empty').about({ field: 'images' }), request).detail).toBe('images: the file is empty');
  });

  it('answers an unmapped code, or any other error, with a 500 that reveals nothing', () => {
    const unmapped = new DomainError('volume.secret-path', 'read /srv/lumen/data/x failed', { field: 'image', details: { path: '/srv/lumen/data/x' } });
    for (const error of [unmapped, new Error('read /srv/lumen/data/x failed'), new TypeError('x is undefined')]) {
      const problem = toProblem(error, request);
      expect(problem).toEqual({
        type: 'urn:lumen:problem:internal',
        title: 'Internal Server Error',
        status: 500,
        detail: 'An unexpected error occurred; it has been logged with this request id.',
        instance: '/jobs',
        requestId: 'req-1',
      });
    }
  });
});

describe('problems of the Open Inference Protocol', () => {
  it('carry the protocol error member under /v2 only', () => {
    const error = new ModelError('model.not-found', 'No model named "x"');
    expect(toProblem(error, { url: '/v2/models/x/infer', id: 'r1' })).toMatchObject({ status: 404, detail: 'No model named "x"', error: 'No model named "x"' });
    expect(toProblem(error, { url: '/v2', id: 'r1' })).toHaveProperty('error');
    expect(toProblem(error, { url: '/models/x', id: 'r1' })).not.toHaveProperty('error');
    expect(toProblem(error, { url: '/v2x', id: 'r1' })).not.toHaveProperty('error');
  });
});
