import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { JobQueueService } from './job-queue.service.js';
import { WORKER_DEAD_AFTER_MS, WORKER_HEARTBEAT_MS, type FleetWorker, type WorkerCapability, takesJobs } from './worker-fleet.js';
import { WORKER_ID } from './worker-id.js';
import { WorkersRepository } from './workers.repository.js';

/** One job kind this worker has a handler for. */
export type FleetKind = {
  kind: string;
  prefersCuda: boolean;
  capability: WorkerCapability;
  /** Starts consuming the kind's queue. */
  consume: () => Promise<void>;
};

/**
 * This worker process in the fleet: it advertises what it can run (device, models, kinds) in the
 * `worker` table with a heartbeat, and at each heartbeat decides which queues to consume
 * (`takesJobs`): a CPU worker leaves the kinds that prefer CUDA to the live CUDA workers, and
 * takes them when none is alive or a job has waited CPU_FALLBACK_SECONDS.
 */
@Injectable()
export class WorkerFleetService implements OnModuleDestroy {
  private readonly logger = new Logger('WorkerFleet');
  private readonly consuming = new Set<string>();
  private kinds: FleetKind[] = [];
  private self: FleetWorker | null = null;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;

  constructor(
    @Inject(CONFIG) private readonly config: LumenConfig,
    private readonly repository: WorkersRepository,
    private readonly queue: JobQueueService,
  ) {}

  /** What this worker advertises: CUDA when any kind runs there, every kind's models. */
  get worker(): FleetWorker | null {
    return this.self;
  }

  /** Queues this worker consumes now. */
  get consumed(): string[] {
    return [...this.consuming].sort();
  }

  async start(kinds: FleetKind[]): Promise<void> {
    this.kinds = kinds;
    this.self = {
      id: WORKER_ID,
      device: kinds.some((k) => k.capability.device === 'cuda') ? 'cuda' : 'cpu',
      models: [...new Set(kinds.flatMap((k) => k.capability.models))].sort(),
      kinds: kinds.map((k) => k.kind),
    };
    await this.tick();
    this.logger.log(`worker ${this.self.id} (${this.self.device}; models: ${this.self.models.join(', ') || 'none'}) consuming: ${this.consumed.join(', ') || 'nothing yet'}`);
    this.timer = setInterval(() => void this.tick().catch((error: Error) => this.logger.warn(`fleet heartbeat failed: ${error.message}`)), WORKER_HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Heartbeat, then start or stop consuming each kind as `takesJobs` says (one at a time). */
  tick(): Promise<void> {
    this.ticking ??= this.reconsider().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async reconsider(): Promise<void> {
    const self = this.self!;
    await this.repository.heartbeat(self);
    const live = await this.repository.live(WORKER_DEAD_AFTER_MS);
    for (const kind of this.kinds) {
      const oldestQueuedSeconds = kind.prefersCuda && self.device === 'cpu' ? await this.repository.oldestQueuedSeconds(kind.kind) : null;
      const { take, reason } = takesJobs({ kind: kind.kind, prefersCuda: kind.prefersCuda, self, live, oldestQueuedSeconds, graceSeconds: this.config.cpuFallbackSeconds });
      if (take && !this.consuming.has(kind.kind)) {
        await kind.consume();
        this.consuming.add(kind.kind);
        if (kind.prefersCuda) this.logger.log(`taking "${kind.kind}" jobs: ${reason}`);
      } else if (!take && this.consuming.has(kind.kind)) {
        await this.queue.stopWork(kind.kind);
        this.consuming.delete(kind.kind);
        this.logger.log(`leaving "${kind.kind}" jobs: ${reason}`);
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    if (this.self) await this.repository.remove(this.self.id).catch(() => undefined);
  }
}
