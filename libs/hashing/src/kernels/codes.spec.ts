import { bytesToWords, codeBytes, codeToHex, codeWords, hexToCode, packSigns, wordsToBytes } from './codes.js';

describe('binary codes', () => {
  it('packs bit i = (value > 0) MSB-first per byte', () => {
    const values = new Float32Array(12).fill(-0.5);
    values[0] = 0.9; // byte 0 mask 0x80
    values[7] = 0.1; // byte 0 mask 0x01
    values[9] = 1; // byte 1 mask 0x40
    values[11] = 0; // zero is not > 0
    expect([...packSigns(values, 0, 12)]).toEqual([0x81, 0x40]);
    expect(codeToHex(packSigns(values, 0, 12))).toBe('8140');
  });

  it('packs from an offset (one row of a batch output)', () => {
    const batch = new Float32Array([1, -1, 1, -1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, 1]);
    expect([...packSigns(batch, 8, 8)]).toEqual([0x01]);
  });

  it('reads bytes as big-endian words and back, zero-padding the last word', () => {
    const code = new Uint8Array([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]);
    const words = bytesToWords(code, 48);
    expect(words.length).toBe(codeWords(48));
    expect([...words]).toEqual([0x12345678, 0x9abc0000]);
    expect([...wordsToBytes(words, 0, 48)]).toEqual([...code]);
    expect(codeBytes(48)).toBe(6);
  });

  it('parses hex of exactly the right length and rejects everything else', () => {
    expect([...hexToCode('0aff10203040', 48)!]).toEqual([0x0a, 0xff, 0x10, 0x20, 0x30, 0x40]);
    expect(hexToCode('0AFF10203040', 48)).not.toBeNull();
    expect(hexToCode('0aff1020304', 48)).toBeNull();
    expect(hexToCode('0aff102030405060', 48)).toBeNull();
    expect(hexToCode('0aff1020304g', 48)).toBeNull();
    expect(hexToCode('', 48)).toBeNull();
    // 12 bits: the low nibble of the second byte is padding and must be zero
    expect(hexToCode('abc0', 12)).not.toBeNull();
    expect(hexToCode('abc1', 12)).toBeNull();
  });
});
