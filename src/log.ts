import winston from 'winston';

/**
 * The operational log (JSON lines). Never pass key material, passwords or raw
 * request bytes in a message or its metadata.
 */
export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}

export interface LogOptions {
  level?: string;
  /** write JSON lines to this file instead of stderr */
  file?: string;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const transport = opts.file
    ? new winston.transports.File({ filename: opts.file })
    : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] });
  return winston.createLogger({
    level: opts.level ?? 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
}

/** A logger that drops everything; for tests and library use. */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
};
