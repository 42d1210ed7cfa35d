import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import pg from 'pg';
import { DATABASE_CONNECTION, type DatabaseConnection } from '@lumen/database';
import { CollectionIndexes } from './collection-indexes.js';
import { COLLECTION_EVENTS_CHANNEL } from './collections.repository.js';

/**
 * How often every loaded index checks the feed, whatever the notifications: a lost NOTIFY (the
 * listening connection dropped and is being re-opened) then delays a write by at most this
 * much (plus one catch-up query), inside the 1 s visibility this design promises.
 */
export const FEED_POLL_MS = 500;

/** How long a dropped listening connection waits before it is opened again. */
const RECONNECT_MS = 1000;

/**
 * Wakes the collection indexes of this process when another replica writes: one dedicated
 * connection LISTENs on `lumen_collection_events` (each committed write NOTIFYs its collection
 * id) and a poll every FEED_POLL_MS catches up whatever a notification missed. What is applied,
 * and in which order, is CollectionIndexes' business; this only says when.
 */
@Injectable()
export class CollectionFeed implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('CollectionFeed');
  private client: pg.Client | null = null;
  private poller: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;

  constructor(
    @Inject(DATABASE_CONNECTION) private readonly connection: DatabaseConnection,
    private readonly indexes: CollectionIndexes,
  ) {}

  onModuleInit(): void {
    void this.listen();
    this.poller = setInterval(() => void this.poll(), FEED_POLL_MS);
    this.poller.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poller);
    clearTimeout(this.reconnect);
    await this.client?.end().catch(() => undefined);
  }

  /** Applies what loaded indexes are missing; returns how many were behind (0 while a poll runs or the database is away). */
  async poll(): Promise<number> {
    if (this.polling || this.stopped) return 0;
    this.polling = true;
    try {
      return await this.indexes.syncAll();
    } catch (error) {
      this.logger.warn(`collection feed poll failed: ${(error as Error).message}`);
      return 0;
    } finally {
      this.polling = false;
    }
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.connection.url, connectionTimeoutMillis: 10_000 });
    let failed = false;
    const retry = (error?: Error) => {
      if (failed) return;
      failed = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      if (error) this.logger.warn(`collection feed connection lost (${error.message}); polling every ${FEED_POLL_MS} ms until it is back`);
      this.reconnect = setTimeout(() => void this.listen(), RECONNECT_MS);
      this.reconnect.unref();
    };
    client.on('notification', (message) => {
      if (message.channel !== COLLECTION_EVENTS_CHANNEL || !message.payload) return;
      this.indexes.sync(message.payload).catch((error: Error) => this.logger.warn(`collection ${message.payload}: catch-up failed (${error.message}); the poll retries`));
    });
    client.on('error', retry);
    client.on('end', () => retry(new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${COLLECTION_EVENTS_CHANNEL}`);
      this.client = client;
      void this.poll(); // writes made while nobody listened
    } catch (error) {
      retry(error as Error);
    }
  }
}
