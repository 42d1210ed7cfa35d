import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { LumenConfig } from '@lumen/config';
import { FileSystemStorage } from './file-system-storage.js';
import { Storage } from './storage.js';

/**
 * The store of uploads and results, checked: main.ts opens it before anything else starts, so a
 * process that cannot write it refuses to start with StorageUnavailableError's message alone.
 */
export async function openStorage(config: LumenConfig): Promise<Storage> {
  const storage = new FileSystemStorage(config.storageDir);
  await storage.check();
  return storage;
}

/** Provides the opened `Storage` (inject the abstract class) to every module. */
@Global()
@Module({})
export class StorageModule {
  static forRoot(storage: Storage): DynamicModule {
    return { module: StorageModule, providers: [{ provide: Storage, useValue: storage }], exports: [Storage] };
  }
}
