import { HttpStatus } from '@nestjs/common';
import { isDatabaseUnavailable, toProblem } from './problem.filter.js';
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
