import pino, { DestinationStream, Logger } from 'pino';
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
