import { createHash } from 'node:crypto';

export enum Scope {
  Segment = 'segment',
  Search = 'search',
  Hypergraph = 'hypergraph',
  /** The Open Inference Protocol (KServe v2, /v2/*): raw tensors in and out of any served model. */
  Infer = 'infer',
  Admin = 'admin',
}

export const SCOPES: readonly Scope[] = Object.values(Scope);

/** A configured key; only the SHA-256 of its secret is kept in memory. */
export type ApiKeyEntry = { name: string; secretSha256: string; scopes: Scope[] };

/** Shortest secret accepted in API_KEYS (and in a hand-written admin.key). */
export const MIN_SECRET_LENGTH = 16;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Parses `name:secret:scope+scope,...`; throws a message naming the bad entry. */
export function parseApiKeys(value: string): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  for (const [index, raw] of value.split(',').map((s) => s.trim()).filter(Boolean).entries()) {
    const parts = raw.split(':');
    if (parts.length !== 3) throw new Error(`entry ${index + 1} must be name:secret:scopes`);
    const [name, secret, scopeList] = parts;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new Error(`entry ${index + 1}: name "${name}" must be 1-64 letters, digits, _ . -`);
    if (secret.length < MIN_SECRET_LENGTH) throw new Error(`entry ${index + 1} (${name}): secret must be at least ${MIN_SECRET_LENGTH} characters (got ${secret.length})`);
    const scopes = scopeList.split('+').map((s) => s.trim());
    const unknown = scopes.filter((s) => !SCOPES.includes(s as Scope));
    if (unknown.length || !scopes.length) throw new Error(`entry ${index + 1} (${name}): unknown scope(s) ${unknown.join(', ') || '(none)'}; use ${SCOPES.join(', ')}`);
    if (entries.some((e) => e.name === name)) throw new Error(`entry ${index + 1}: duplicate name "${name}"`);
    entries.push({ name, secretSha256: hashSecret(secret), scopes: scopes as Scope[] });
  }
  return entries;
}
