// Fuzzing hypergraph candidate validation with any JSON a client could send. See test/support/fuzz.ts.
import fc from 'fast-check';
import { fuzz } from '../../../test/support/fuzz.js';
import { GPS_SPEC as GPS } from '../../../test/support/hypergraph-fixtures.js';
import { type CandidateError, CandidateResolver } from './candidates.js';

const TOTAL = 221;

/** Nodes near the valid ones (types, ids at and past the edges) and anything else JSON holds. */
const node = fc.oneof(
  fc.record({ type: fc.constantFrom('user', 'location', 'activity', 'planet', '__proto__', 'constructor', ''), id: fc.oneof(fc.integer({ min: -2, max: 150 }), fc.double(), fc.constantFrom(0.5, 1e21, -0, '3')) }),
  fc.record({ type: fc.constantFrom('user', 'location'), id: fc.integer({ min: 0, max: 4 }), extra: fc.jsonValue() }, { requiredKeys: ['type', 'id'] }),
  fc.jsonValue({ maxDepth: 3 }),
);
const candidate = fc.oneof(fc.array(node, { maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }));

describe('CandidateResolver (fuzzed)', () => {
  it('gives distinct in-range indices of an allowed count, or errors at the candidate path; never throws', () => {
    const resolver = new CandidateResolver(GPS);
    fc.assert(
      fc.property(candidate, fc.constantFrom(1, 2), (value, minSize) => {
        const errors: CandidateError[] = [];
        const indices = resolver.resolve(value, 'hyperedges[7]', errors, minSize);
        if (indices === null) return errors.length > 0 && errors.every((e) => e.field.startsWith('hyperedges[7]') && e.message.startsWith('hyperedges[7]'));
        return (
          errors.length === 0 &&
          indices.length >= minSize &&
          indices.length <= GPS.maxCandidateSize &&
          new Set(indices).size === indices.length &&
          indices.every((i) => Number.isInteger(i) && i >= 0 && i < TOTAL)
        );
      }),
      fuzz(3000),
    );
  });
});
