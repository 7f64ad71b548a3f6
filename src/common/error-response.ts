import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import { DomainError, FieldError } from './domain-error';

/** HTTP status for each stable error code the service answers with. */
const STATUS_BY_CODE: Record<string, number> = {
  VALIDATION_FAILED: 400,
  BAD_REQUEST: 400,
  INVALID_CURSOR: 400,
  UNAUTHENTICATED: 401,
  ACCESS_DENIED: 403,
  ACCOUNT_SUSPENDED: 403,
  NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  EMAIL_TAKEN: 409,
  KEYCLOAK_ID_TAKEN: 409,
  CONFLICT: 409,
  INVALID_STATE_TRANSITION: 409,
  LEGAL_HOLD: 409,
  GRACE_PERIOD_EXPIRED: 409,
  QUOTA_EXCEEDED: 409,
  RESERVATION_EXISTS: 409,
  RESERVATION_NOT_FOUND: 404,
  USER_ERASED: 410,
  VERSION_MISMATCH: 412,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  EXPECTATION_FAILED: 417,
  IDEMPOTENCY_KEY_REUSED: 422,
  INVALID_IMAGE: 422,
  IMAGE_TOO_LARGE_PIXELS: 422,
  RATE_LIMITED: 429,
  REQUEST_HEADER_FIELDS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

/** Our code for a status that a library (Nest, Fastify, @fastify/static) raised without one of ours. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'ACCESS_DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  412: 'VERSION_MISMATCH',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE',
  417: 'EXPECTATION_FAILED',
  429: 'RATE_LIMITED',
  431: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
  503: 'SERVICE_UNAVAILABLE',
};

export interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  details?: FieldError[];
  /** QUOTA_EXCEEDED: what the reservation asked for and what remains. */
  quota?: object;
  /** RESERVATION_EXISTS: the live reservation holding the reference. */
  reservationId?: string;
  timestamp: string;
  path: string;
  traceId: string;
}

/**
 * Turns anything thrown while serving a request into the service's error body: always one of our codes, with the
 * status that code means. A status we have no code for becomes 400 BAD_REQUEST (4xx) or 500 INTERNAL_ERROR (5xx).
 */
export function toErrorBody(error: unknown, path: string, traceId: string): ErrorBody {
  const { statusCode, code, message, details, extra } = classify(error);
  return {
    statusCode,
    error: STATUS_CODES[statusCode]!,
    code,
    message,
    ...(details ? { details } : {}),
    ...extra,
    timestamp: new Date().toISOString(),
    path,
    traceId,
  };
}

const INTERNAL = { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' };

function classify(error: unknown): {
  statusCode: number;
  code: string;
  message: string;
  details?: FieldError[];
  extra?: Record<string, unknown>;
} {
  if (error instanceof DomainError) {
    const statusCode = STATUS_BY_CODE[error.code];
    if (statusCode === undefined || error.code === 'INTERNAL_ERROR') return INTERNAL;
    return { statusCode, code: error.code, message: error.message, details: error.details, extra: error.extra };
  }
  // Nest's HttpExceptions (Fastify's own errors arrive as these), and errors carrying a status
  // (@fastify/static's 416, malformed JSON, body too large, unsupported content type).
  const status = error instanceof HttpException ? error.getStatus() : (error as { statusCode?: unknown })?.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 599) return INTERNAL;
  const code = CODE_BY_STATUS[status];
  if (status >= 500 && code === undefined) return INTERNAL;
  return { statusCode: code ? status : 400, code: code ?? 'BAD_REQUEST', message: messageOf(error) };
}

function messageOf(error: unknown): string {
  if (error instanceof HttpException) {
    const response = error.getResponse();
    return typeof response === 'string' ? response : String((response as { message?: unknown }).message ?? error.message);
  }
  return String((error as { message?: unknown }).message);
}
