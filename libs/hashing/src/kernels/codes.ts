/**
 * Binary codes as the hashing models define them: bit i = 1 iff output[i] > 0, packed
 * MSB-first per byte (bit i → byte i >> 3, mask 0x80 >> (i & 7)). The index works on the same
 * bytes read as big-endian 32-bit words, so word j holds bits 32j..32j+31 (unused bits are 0).
 */

/** Bytes needed for a code of `bits` bits. */
export function codeBytes(bits: number): number {
  return (bits + 7) >>> 3;
}

/** 32-bit words needed for a code of `bits` bits. */
export function codeWords(bits: number): number {
  return (bits + 31) >>> 5;
}

/** Packs the signs of `bits` values starting at `offset` into `out` (codeBytes(bits) bytes). */
export function packSigns(values: Float32Array, offset: number, bits: number, out: Uint8Array = new Uint8Array(codeBytes(bits)), outOffset = 0): Uint8Array {
  out.fill(0, outOffset, outOffset + codeBytes(bits));
  for (let i = 0; i < bits; i++) {
    if (values[offset + i] > 0) out[outOffset + (i >>> 3)] |= 0x80 >>> (i & 7);
  }
  return out;
}

/** Writes a packed code as codeWords(bits) big-endian words into `out` at word `outOffset`. */
export function bytesToWords(code: Uint8Array, bits: number, out: Uint32Array = new Uint32Array(codeWords(bits)), outOffset = 0): Uint32Array {
  const nBytes = codeBytes(bits);
  const nWords = codeWords(bits);
  for (let w = 0; w < nWords; w++) {
    let word = 0;
    for (let b = 0; b < 4; b++) {
      const i = w * 4 + b;
      word = (word << 8) | (i < nBytes ? code[i] : 0);
    }
    out[outOffset + w] = word >>> 0;
  }
  return out;
}

/** The inverse of bytesToWords for one code. */
export function wordsToBytes(words: Uint32Array, wordOffset: number, bits: number, out: Uint8Array = new Uint8Array(codeBytes(bits))): Uint8Array {
  const nBytes = codeBytes(bits);
  for (let i = 0; i < nBytes; i++) out[i] = (words[wordOffset + (i >>> 2)] >>> (24 - 8 * (i & 3))) & 0xff;
  return out;
}

export function codeToHex(code: Uint8Array): string {
  return Buffer.from(code.buffer, code.byteOffset, code.byteLength).toString('hex');
}

/** Parses a hex code; null when it is not exactly codeBytes(bits) bytes of hex. */
export function hexToCode(hex: string, bits: number): Uint8Array | null {
  if (hex.length !== codeBytes(bits) * 2 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const code = new Uint8Array(Buffer.from(hex, 'hex'));
  // Bits past `bits` in the last byte must be 0, or the same code would have two spellings.
  const spare = codeBytes(bits) * 8 - bits;
  if (spare && (code[code.length - 1] & ((1 << spare) - 1)) !== 0) return null;
  return code;
}
