import { Param, ParseUUIDPipe } from '@nestjs/common';
import { ValidationFailed } from './domain-error';

/** A route's `:id`, which must be a UUID: anything else is a 400, never a database error. */
export const UuidParam = (name = 'id') =>
  Param(name, new ParseUUIDPipe({ exceptionFactory: () => ValidationFailed.field(name, 'must be a UUID') }));
