import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MIN_SECRET_LENGTH } from '@lumen/config';

/** Random bytes of a generated key: 24 bytes are 32 base64url characters after the `lmn_` prefix. */
const GENERATED_KEY_BYTES = 24;

/** A generated API key: `lmn_` and 32 random base64url characters (192 bits). */
export function generateApiKey(): string {
  return `lmn_${randomBytes(GENERATED_KEY_BYTES).toString('base64url')}`;
}

/** Start-up refuses the key file; the message names the file and the fix. */
export class AdminKeyFileError extends Error {}

export type AdminKeyOutput = {
  /** Whether a person is watching: stdout is a terminal. */
  interactive: boolean;
  /** Writes to the terminal itself (not the log stream). */
  print: (text: string) => void;
  /** A log line (what collectors keep). */
  log: (text: string) => void;
  /** A log line that must be seen at any log level above debug: where a new key is. */
  notice: (text: string) => void;
};

/**
 * The admin key of a start without API_KEYS: read from `DATA_DIR/admin.key`, or made and written
 * there (mode 600, never over an existing file) on the first start. The secret reaches a screen
 * once, on the start that makes it and only when stdout is a terminal; otherwise only the file's
 * path is logged, so the key never lands in a log collector. Like ssh with private keys, a key
 * file that group or others may read or write is refused rather than used.
 */
export function adminKey(dataDir: string, output: AdminKeyOutput): string {
  const file = path.join(dataDir, 'admin.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = generateApiKey();
    // 'wx': fails rather than following a link or overwriting a file made meanwhile.
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    if (output.interactive) output.print(`\n  Lumen created an admin API key (stored in ${file}):\n\n    X-API-Key: ${secret}\n\n`);
    else output.notice(`API_KEYS unset: created an admin key in ${file} (not shown: stdout is not a terminal; read it from the file)`);
    return secret;
  }
  const stat = fs.statSync(file);
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new AdminKeyFileError(`${file} is accessible by group or others (mode ${(stat.mode & 0o777).toString(8).padStart(3, '0')}); an API key file must be private. Fix: chmod 600 ${file}`);
  }
  const secret = fs.readFileSync(file, 'utf8').trim();
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new AdminKeyFileError(`${file} holds a key of ${secret.length} characters; keys need at least ${MIN_SECRET_LENGTH}. Delete the file to have a new admin key made`);
  }
  output.log(`API_KEYS unset: using the admin key in ${file}`);
  return secret;
}
