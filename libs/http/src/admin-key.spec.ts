import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AdminKeyFileError, adminKey, generateApiKey } from './admin-key.js';

function capture(interactive: boolean) {
  const printed: string[] = [];
  const logged: string[] = [];
  const log = (t: string) => logged.push(t);
  return { printed, logged, output: { interactive, print: (t: string) => printed.push(t), log, notice: log } };
}

describe('the generated admin key (API_KEYS unset)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-admin-key-')), 'data');
  });
  afterEach(() => fs.rmSync(path.dirname(dataDir), { recursive: true, force: true }));
  const keyFile = () => path.join(dataDir, 'admin.key');

  it('generates 32 random base64url characters after the prefix, never twice the same', () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    for (const key of keys) expect(key).toMatch(/^lmn_[A-Za-z0-9_-]{32}$/);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('on a terminal: shows the new key once, in a file of mode 600', () => {
    const first = capture(true);
    const secret = adminKey(dataDir, first.output);
    expect(fs.statSync(keyFile()).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(keyFile(), 'utf8')).toBe(`${secret}\n`);
    expect(first.printed.join('')).toContain(secret);
    expect(first.logged.join('')).not.toContain(secret);

    const second = capture(true);
    expect(adminKey(dataDir, second.output)).toBe(secret);
    expect([...second.printed, ...second.logged].join('')).not.toContain(secret);
    expect(second.logged.join('')).toContain(keyFile());
  });

  it('not on a terminal: logs only where the key is, never the key', () => {
    const run = capture(false);
    const secret = adminKey(dataDir, run.output);
    expect(run.printed).toEqual([]);
    expect(run.logged.join('')).toContain(keyFile());
    expect(run.logged.join('')).not.toContain(secret);
  });

  it.each([0o644, 0o640, 0o604, 0o660, 0o606])('refuses a key file of mode %o, naming the fix', (mode) => {
    adminKey(dataDir, capture(false).output);
    fs.chmodSync(keyFile(), mode);
    expect(() => adminKey(dataDir, capture(false).output)).toThrow(AdminKeyFileError);
    expect(() => adminKey(dataDir, capture(false).output)).toThrow(`chmod 600 ${keyFile()}`);
  });

  it('accepts a key file readable by its owner only (600, 400)', () => {
    const secret = adminKey(dataDir, capture(false).output);
    fs.chmodSync(keyFile(), 0o400);
    expect(adminKey(dataDir, capture(false).output)).toBe(secret);
  });

  it('refuses a hand-written key shorter than 16 characters', () => {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(keyFile(), 'short-key\n', { mode: 0o600 });
    expect(() => adminKey(dataDir, capture(false).output)).toThrow(/9 characters; keys need at least 16/);
  });
});
