export interface FieldError {
  field: string;
  message: string;
}

/**
 * Base of every error the service expects. The `code` is part of the API contract;
 * the global error filter maps it to an HTTP status.
 */
export class DomainError extends Error {
  /** What went wrong underneath an expected 5xx, for its log line only (the response never carries it). */
  reason?: Record<string, unknown>;
  /** Fields the error body carries besides the usual ones (documented on ErrorResponse), e.g. QUOTA_EXCEEDED's `quota`. */
  extra?: Record<string, unknown>;

  constructor(
    readonly code: string,
    message: string,
    readonly details?: FieldError[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationFailed extends DomainError {
  constructor(details: FieldError[]) {
    super('VALIDATION_FAILED', 'Validation failed', details);
  }

  static field(field: string, message: string): ValidationFailed {
    return new ValidationFailed([{ field, message }]);
  }
}

export class Unauthenticated extends DomainError {
  constructor(message = 'Authentication required') {
    super('UNAUTHENTICATED', message);
  }
}

export class AccessDenied extends DomainError {
  constructor(message = 'You may not access this resource') {
    super('ACCESS_DENIED', message);
  }
}

export class VersionMismatch extends DomainError {
  constructor(current: number) {
    super('VERSION_MISMATCH', `The resource has changed (current version ${current}); reload it and retry`);
  }
}

export class IdempotencyKeyReused extends DomainError {
  constructor() {
    super('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for another user or endpoint; send a new key');
  }
}

/** A page cursor that is not one of ours, or was made for another list. */
export class InvalidCursor extends DomainError {
  constructor() {
    super('INVALID_CURSOR', 'The cursor is malformed or belongs to another list; start again from the first page');
  }
}
