// Runs `prisma generate` where Prisma's native schema engine cannot be downloaded.
// `generate` does not use the engine, but the CLI refuses to start unless
// PRISMA_SCHEMA_ENGINE_BINARY names an existing file; point it at this script when unset.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = fileURLToPath(import.meta.url);
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
