import fs from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest ancestor holding prisma/migrations (works from src and dist). */
export function projectRoot(from: string = import.meta.dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'prisma', 'migrations'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`prisma/migrations not found above ${from}`);
    dir = parent;
  }
}
