import { pino, type Logger } from 'pino';

export interface CapturedLog {
  logger: Logger;
  /** Every line written so far, as written (JSON). */
  text(): string;
  records(): Array<Record<string, unknown>>;
}

/** A pino logger whose lines are kept in memory, for tests that assert what reaches the log. */
export function captureLog(level: pino.LevelWithSilent = 'info'): CapturedLog {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(line) });
  return {
    logger,
    text: () => lines.join(''),
    records: () =>
      lines
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
