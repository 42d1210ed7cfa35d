import { GPS_SPEC as GPS } from '../../../test/support/hypergraph-fixtures.js';
import { type CandidateError, CandidateResolver } from './candidates.js';


function resolve(value: unknown, minSize?: number) {
  const errors: CandidateError[] = [];
  const indices = new CandidateResolver(GPS).resolve(value, 'hyperedges[3]', errors, minSize);
  return { indices, errors, messages: errors.map((e) => e.message) };
}

describe('CandidateResolver', () => {
  it('maps typed per-type ids to global indices (offset + id), in order', () => {
    const { indices, errors } = resolve([{ type: 'activity', id: 4 }, { type: 'user', id: 0 }, { type: 'location', id: 69 }]);
    expect(errors).toEqual([]);
    expect(indices).toEqual([220, 0, 215]);
  });

  it('names the candidate and node of an out-of-range id', () => {
    const { indices, errors } = resolve([{ type: 'user', id: 146 }, { type: 'location', id: -1 }]);
    expect(indices).toBeNull();
    expect(errors).toEqual([
      { field: 'hyperedges[3][0].id', message: 'hyperedges[3][0]: id 146 is out of range for type user (0..145)', malformed: false },
      { field: 'hyperedges[3][1].id', message: 'hyperedges[3][1]: id -1 is out of range for type location (0..69)', malformed: false },
    ]);
  });

  it('reports unknown types, sizes and repeated nodes as unusable (not malformed)', () => {
    expect(resolve([{ type: 'place', id: 1 }, { type: 'user', id: 1 }]).messages).toEqual(['hyperedges[3][0]: unknown node type "place" (gps has user, location, activity)']);
    expect(resolve([{ type: 'user', id: 1 }]).messages).toEqual(['hyperedges[3]: has 1 node(s); gps candidates need 2..3']);
    const four = [0, 1, 2, 3].map((id) => ({ type: 'user', id }));
    expect(resolve(four).messages).toEqual(['hyperedges[3]: has 4 node(s); gps candidates need 2..3']);
    const twice = resolve([{ type: 'user', id: 5 }, { type: 'location', id: 1 }, { type: 'user', id: 5 }]);
    expect(twice.messages).toEqual(['hyperedges[3][2]: user 5 appears twice (also at hyperedges[3][0])']);
    expect(twice.errors.every((e) => !e.malformed)).toBe(true);
  });

  it('reports wrong JSON shapes as malformed, per node and field', () => {
    expect(resolve({ type: 'user', id: 1 }).errors).toEqual([{ field: 'hyperedges[3]', message: 'hyperedges[3]: must be an array of {type, id} nodes', malformed: true }]);
    const { errors } = resolve([{ type: 'user' }, { type: 'user', id: 1.5 }, 7, { type: 2, id: 1, weight: 3 }]);
    expect(errors.filter((e) => e.malformed).map((e) => e.field)).toEqual([
      'hyperedges[3][0].id',
      'hyperedges[3][1].id',
      'hyperedges[3][2]',
      'hyperedges[3][3].weight',
      'hyperedges[3][3].type',
    ]);
    expect(errors.find((e) => e.field === 'hyperedges[3][1].id')!.message).toBe('hyperedges[3][1]: id must be an integer (got 1.5)');
  });

  it('applies a larger minimum when asked (outsider detection needs 3 nodes)', () => {
    expect(resolve([{ type: 'user', id: 1 }, { type: 'location', id: 1 }], 3).messages).toEqual(['hyperedges[3]: has 2 node(s); gps candidates need 3']);
  });
});
