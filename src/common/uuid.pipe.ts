import { Param, ParseUUIDPipe } from '@nestjs/common';
import { ValidationFailed } from './domain-error';

/** The pipe behind UuidParam: anything but a UUID is a 400, never a database error. */
export const uuidPipe = (name = 'id') => new ParseUUIDPipe({ exceptionFactory: () => ValidationFailed.field(name, 'must be a UUID') });

/** A route's `:id`, which must be a UUID. */
export const UuidParam = (name = 'id') => Param(name, uuidPipe(name));
