// Fuzzing the JSON nesting-depth scan that guards the body parser. See test/support/fuzz.ts.
import fc from 'fast-check';
import { fuzz } from '../../../test/support/fuzz.js';
import { jsonNestingDepth } from './http-server.js';

/** Nesting depth of a parsed JSON value (arrays and objects), as the scan must count it in the text. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

describe('jsonNestingDepth (fuzzed)', () => {
  it('counts the nesting of any JSON text exactly, strings with brackets and escapes included', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.boolean(), (value, spaced) => {
        const text = JSON.stringify(value, null, spaced ? 2 : undefined) ?? 'null';
        return jsonNestingDepth(Buffer.from(text)) === depthOf(value);
      }),
      fuzz(2000),
    );
  });

  it('gives a depth no larger than the openers present, on bytes that are not JSON', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const depth = jsonNestingDepth(bytes);
        return Number.isInteger(depth) && depth >= 0 && depth <= bytes.filter((b) => b === 0x5b || b === 0x7b).length;
      }),
      fuzz(2000),
    );
  });
});
