import { isSpanContextValid, trace } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The trace id: with tracing on, the id of the request's trace (the traceparent's, or a new one), so that
 * logs, error bodies and the exported spans agree; otherwise from a W3C traceparent, else X-Request-Id,
 * else a new one.
 */
export function traceIdOf(request: IncomingMessage): string {
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) return span.traceId;
  const traceparent = request.headers.traceparent;
  const match = typeof traceparent === 'string' && /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent);
  if (match) return match[1];
  const requestId = request.headers['x-request-id'];
  if (typeof requestId === 'string' && /^[\w.:-]{1,128}$/.test(requestId)) return requestId;
  return newTraceId();
}

export function newTraceId(): string {
  return randomUUID().replace(/-/g, '');
}
