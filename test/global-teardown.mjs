import fs from 'node:fs';

export default async function globalTeardown() {
  const embedded = globalThis.__LUMEN_TEST_PG__;
  if (!embedded) return;
  await embedded.server.stop();
  fs.rmSync(embedded.dir, { recursive: true, force: true });
}
