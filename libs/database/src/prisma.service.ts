import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

/** The resolved database connection (a configured server or the embedded one). */
export const DATABASE_CONNECTION = Symbol('DatabaseConnection');
export type DatabaseConnection = { url: string; embedded: boolean; stop: () => Promise<void> };

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(DATABASE_CONNECTION) readonly connection: DatabaseConnection) {
    // A connect's timeout is a timer on this process's event loop. In the worker, a segmentation's
    // kernels hold the loop for seconds at a time (3.8 s measured under the soak on the 2-core dev
    // box, bench/load/soak.ts), and a timer due meanwhile fires on the next turn, before the
    // socket's answer is read: with 5 s, a concurrent job's connect "timed out" against a server
    // that had answered, and the job ran a second attempt. A refused or closed server still fails
    // at once; only a silent one takes the full 30 s. Idle connections are kept a minute so a
    // long job's progress writes rarely need a new one.
    super({ adapter: new PrismaPg({ connectionString: connection.url, max: 10, connectionTimeoutMillis: 30_000, idleTimeoutMillis: 60_000 }) });
  }

  /** True when the database answers a trivial query within the pool's timeout. */
  async isHealthy(): Promise<boolean> {
    try {
      await this.$queryRawUnsafe('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
