import type { FastifyBaseLogger } from 'fastify';
import pino, { Bindings, ChildLoggerOptions, DestinationStream, Logger } from 'pino';
import { AppConfig } from '../config/config';

/**
 * Safety net: request and response bodies are never logged, but an object handed to the logger by
 * mistake must not leak contact details or credentials either.
 */
const REDACTED = [
  'email',
  'phone',
  '*.email',
  '*.phone',
  'data.email',
  'token',
  '*.token',
  'password',
  '*.password',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-internal-token"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-internal-token"]',
  'res.headers["set-cookie"]',
];

/**
 * Error fields that hold a user's values: a failed query's `parameters`, PostgreSQL's `detail`
 * ("Key (email)=(…) already exists", "Failing row contains (…)") and `where`, and TypeORM's copy of
 * the driver's error. What identifies the failure (message, code, constraint, table, SQL text) stays.
 */
const ERROR_DATA = ['parameters', 'detail', 'where', 'driverError'];

function errorWithoutData(error: Error): object {
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const key of ERROR_DATA) delete serialized[key];
  return serialized;
}

/**
 * One JSON line per event: `{level, timestamp, service, traceId, context, userId, action, message}`.
 * Fastify binds `traceId` (the request id) to every line logged while serving a request.
 */
export function createLogger(config: AppConfig, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'user-service' },
      messageKey: 'message',
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED, censor: '[redacted]' },
      serializers: { err: errorWithoutData },
    },
    // Lines are gathered up to 4 KB (or 200 ms) per write to stdout: one write(2) per line was ~8% of the CPU of a
    // POST or PATCH, each of which logs its activity line (bench/http, issue 13). Flushed on exit.
    destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 200 }),
  );
}

/**
 * request.log, made a pino child on its first line: most requests (every GET that succeeds) log nothing, and a
 * child per request was ~2 % of a GET's CPU (bench/http, issue 13). Fastify's childLoggerFactory.
 */
export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings, options) as unknown as FastifyBaseLogger;
}

type Line = [unknown, ...unknown[]];

class LazyChildLogger {
  private made?: FastifyBaseLogger;
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }
  get level(): string {
    return this.logger.level;
  }
  set level(level: string) {
    this.logger.level = level;
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
  info(...line: Line): void {
    (this.logger.info as (...line: Line) => void)(...line);
  }
  error(...line: Line): void {
    (this.logger.error as (...line: Line) => void)(...line);
  }
  warn(...line: Line): void {
    (this.logger.warn as (...line: Line) => void)(...line);
  }
  debug(...line: Line): void {
    (this.logger.debug as (...line: Line) => void)(...line);
  }
  trace(...line: Line): void {
    (this.logger.trace as (...line: Line) => void)(...line);
  }
  fatal(...line: Line): void {
    (this.logger.fatal as (...line: Line) => void)(...line);
  }
  silent(): void {}
}
