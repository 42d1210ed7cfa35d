import { Injectable } from '@nestjs/common';
import { PrismaService } from '@lumen/database';
import type { Device, FleetWorker } from './worker-fleet.js';

/**
 * Every SQL statement about the worker fleet (table `worker`, and the `job` rows it reads).
 * Liveness is judged on the database's clock, so the workers' clocks need not agree.
 */
@Injectable()
export class WorkersRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Records (or refreshes) a worker and what it can run. */
  async heartbeat(worker: FleetWorker): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO worker (id, device, models, kinds) VALUES (${worker.id}, ${worker.device}, ${worker.models}::text[], ${worker.kinds}::text[])
      ON CONFLICT (id) DO UPDATE SET device = EXCLUDED.device, models = EXCLUDED.models, kinds = EXCLUDED.kinds, heartbeat_at = now()`;
  }

  async remove(id: string): Promise<void> {
    await this.prisma.worker.deleteMany({ where: { id } });
  }

  /** Workers heard from within `withinMs`. */
  async live(withinMs: number): Promise<FleetWorker[]> {
    const rows = await this.prisma.$queryRaw<{ id: string; device: Device; models: string[]; kinds: string[] }[]>`
      SELECT id, device, models, kinds FROM worker WHERE heartbeat_at > now() - make_interval(secs => ${withinMs / 1000}) ORDER BY id`;
    return rows;
  }

  /** Running jobs per worker id. */
  async runningByWorker(): Promise<Map<string, number>> {
    const groups = await this.prisma.job.groupBy({ by: ['workerId'], where: { status: 'running', workerId: { not: null } }, _count: { _all: true } });
    return new Map(groups.map((g) => [g.workerId!, g._count._all]));
  }

  /** Seconds the oldest queued job of `kind` has waited, or null when none waits. */
  async oldestQueuedSeconds(kind: string): Promise<number | null> {
    const [row] = await this.prisma.$queryRaw<{ seconds: number | null }[]>`
      SELECT EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS seconds FROM job WHERE kind = ${kind} AND status = 'queued'`;
    return row?.seconds ?? null;
  }
}
