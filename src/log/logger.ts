import { destination, pino } from 'pino';

/** Structured logger used by every layer that does IO. The pure core never logs: it returns actions. */
export type Logger = pino.Logger;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * JSON lines on stderr, so that stdout stays free for a program's own output (chat lines, --json).
 * Synchronous writes: a log line written just before exit is not lost.
 */
export function createLogger(level: LogLevel = 'warn', bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: bindings }, destination({ fd: 2, sync: true }));
}

/** A logger that drops everything; the default for library users who did not ask for logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
