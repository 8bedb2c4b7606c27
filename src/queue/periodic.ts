import type { Logger } from 'pino';

/**
 * Runs a task every `intervalMs`, never two runs at once, and lets `stop()` wait for the run in hand:
 * the shape every background sweep here shares.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      if (this.running !== undefined) return;
      this.running = this.task()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error({ err: error, task: this.name }, 'background task failed; it runs again next interval'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
