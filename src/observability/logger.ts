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
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
