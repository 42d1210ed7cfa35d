/**
 * Exact Hamming top-10 inside PostgreSQL, the way a database-side search without an in-memory
 * index runs it: random 64-bit codes in a `bit(64)` column of an unlogged table, and
 * `ORDER BY bit_count(code # $1), seq LIMIT 10` (sequential scan, top-k sort; ties by insertion
 * order, as Lumen breaks them). This is the executor work an exact pgvector `<~>` query on its
 * `bit` type also does (one distance function call per row, then a top-k sort); pgvector is not
 * installable on the dev box, so its own operator is not measured here. Runs with parallel
 * workers off (one core, like Lumen's scan) and with 2 workers per gather. The first query's
 * answer is checked against a brute-force scan of the same codes in JavaScript.
 *
 * Uses a throwaway database on the server of `--database-url` (default DATABASE_URL), dropped
 * at the end.
 *
 *   npm run build && node dist/bench/hashing/postgres-scan.js --database-url postgresql://postgres@127.0.0.1:5432/postgres
 *     [--codes 1000000] [--queries 20]
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { arg, percentile } from './support.js';

const serverUrl = arg('database-url', process.env.DATABASE_URL ?? '');
if (!serverUrl) throw new Error('give --database-url (or DATABASE_URL)');
const codes = Number(arg('codes', '1000000'));
const queries = Number(arg('queries', '20'));

const bitString = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
const popcount = (x: bigint) => {
  let n = 0;
  for (; x; x &= x - 1n) n++;
  return n;
};

const name = `lumen_bench_${randomBytes(6).toString('hex')}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const db = new pg.Client({ connectionString: url.toString() });
try {
  await db.connect();
  await db.query('CREATE UNLOGGED TABLE codes (seq bigserial PRIMARY KEY, code bit(64) NOT NULL)');
  const started = Date.now();
  await db.query(`INSERT INTO codes (code) SELECT ((((random() * 4294967295)::bigint) << 32) | ((random() * 4294967295)::bigint))::bit(64) FROM generate_series(1, $1)`, [codes]);
  await db.query('VACUUM ANALYZE codes');
  console.log(`${codes} codes loaded in ${Date.now() - started} ms`);

  const qs = Array.from({ length: queries }, () => bitString(randomBytes(8)));
  const sql = 'SELECT seq, bit_count(code # $1::bit(64))::int AS d FROM codes ORDER BY d, seq LIMIT 10';

  // The first answer, checked against a brute-force scan in JavaScript (same tie order: seq).
  const { rows: all } = await db.query<{ seq: string; c: string }>('SELECT seq, code::bigint::text AS c FROM codes ORDER BY seq');
  const q0 = BigInt.asIntN(64, BigInt(`0b${qs[0]}`));
  const expected = all
    .map((r) => ({ seq: Number(r.seq), d: popcount(BigInt.asUintN(64, BigInt(r.c) ^ q0)) }))
    .sort((a, b) => a.d - b.d || a.seq - b.seq)
    .slice(0, 10);
  const { rows: got } = await db.query<{ seq: string; d: number }>(sql, [qs[0]]);
  if (JSON.stringify(got.map((r) => ({ seq: Number(r.seq), d: r.d }))) !== JSON.stringify(expected)) throw new Error('PostgreSQL and the brute-force scan disagree');

  const results: Record<string, number> = {};
  for (const workers of [0, 2]) {
    await db.query(`SET max_parallel_workers_per_gather = ${workers}`);
    await db.query(sql, [qs[0]]); // warm
    const times: number[] = [];
    for (const q of qs) {
      const t = process.hrtime.bigint();
      await db.query(sql, [q]);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    results[workers ? `${workers} parallel workers` : '1 process'] = percentile(times, 50);
    console.log(`${codes} codes, ${workers ? `${workers} parallel workers` : 'no parallel workers'}: median ${percentile(times, 50).toFixed(1)} ms / query (min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)})`);
  }
  const { rows: version } = await db.query<{ server_version: string }>('SHOW server_version');
  console.log(JSON.stringify({ codes, queries, msPerQueryMedian: results, postgres: version[0].server_version }));
} finally {
  await db.end().catch(() => undefined);
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
