import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import { DomainError, FieldError } from './domain-error';

/** HTTP status for each stable error code the service answers with. */
const STATUS_BY_CODE: Record<string, number> = {
  VALIDATION_FAILED: 400,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  ACCESS_DENIED: 403,
  NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  EMAIL_TAKEN: 409,
  KEYCLOAK_ID_TAKEN: 409,
  CONFLICT: 409,
  REQUEST_TIMEOUT: 408,
  VERSION_MISMATCH: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  INVALID_IMAGE: 422,
  IMAGE_TOO_LARGE_PIXELS: 422,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'ACCESS_DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  412: 'VERSION_MISMATCH',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

export interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  details?: FieldError[];
  timestamp: string;
  path: string;
  traceId: string;
}

/** Turns anything thrown while serving a request into the service's error body. */
export function toErrorBody(error: unknown, path: string, traceId: string): ErrorBody {
  let statusCode = 500;
  let code = 'INTERNAL_ERROR';
  let message = 'Internal server error';
  let details: FieldError[] | undefined;

  if (error instanceof DomainError) {
    statusCode = STATUS_BY_CODE[error.code] ?? 500;
    code = error.code;
    message = statusCode === 500 ? message : error.message;
    details = error.details;
  } else if (error instanceof HttpException) {
    statusCode = error.getStatus();
    const response = error.getResponse();
    code = CODE_BY_STATUS[statusCode] ?? code;
    message = typeof response === 'string' ? response : String((response as { message?: unknown }).message ?? error.message);
  } else if (isClientError(error)) {
    // Fastify's own errors (malformed JSON, body too large, unsupported content type) carry a 4xx statusCode.
    statusCode = error.statusCode;
    code = CODE_BY_STATUS[statusCode] ?? 'BAD_REQUEST';
    message = error.message;
  }
  if (statusCode >= 500 && code === 'INTERNAL_ERROR') message = 'Internal server error';

  return {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    code,
    message,
    ...(details ? { details } : {}),
    timestamp: new Date().toISOString(),
    path,
    traceId,
  };
}

function isClientError(error: unknown): error is { statusCode: number; message: string } {
  const status = (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}
