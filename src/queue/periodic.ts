import type { Logger } from 'pino';
import type { JobLock } from '../db/job-lock.js';

/**
 * Runs a task every `intervalMs`, never two runs at once, and lets `stop()` wait for the run in hand:
 * the shape every background sweep here shares. With a `lock`, a tick runs the task only if no other
 * runner (in this process or another instance) is running the same job at that moment.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly logger: Logger,
    private readonly lock?: JobLock,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      if (this.running !== undefined) return;
      this.running = this.tick()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error({ err: error, task: this.name }, 'background task failed; it runs again next interval'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
  }

  /** One run now, as a tick would: false when another runner held the job. */
  async tick(): Promise<boolean> {
    if (this.lock === undefined) {
      await this.task();
      return true;
    }
    const ran = await this.lock.runAlone(this.name, this.task);
    if (!ran) this.logger.debug({ task: this.name }, 'background task skipped: another runner has it');
    return ran;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
