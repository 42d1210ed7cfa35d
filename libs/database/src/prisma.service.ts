import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

/** The resolved database connection (a configured server or the embedded one). */
export const DATABASE_CONNECTION = Symbol('DatabaseConnection');
export type DatabaseConnection = { url: string; embedded: boolean; stop: () => Promise<void> };

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(DATABASE_CONNECTION) readonly connection: DatabaseConnection) {
    super({ adapter: new PrismaPg({ connectionString: connection.url, max: 10, connectionTimeoutMillis: 5000 }) });
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
