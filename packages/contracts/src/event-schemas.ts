import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { EVENT_SCHEMAS, UsageEventType, UserEventType } from './generated/events';
import { eventSchemas } from './schemas';
import { describeErrors, Schema } from './problems';

export type EventType = UserEventType | UsageEventType;

// allErrors: every problem of a message at once; verbose: each error carries the schema that says what was
// expected. Neither costs anything on a valid message.
const ajv = new Ajv({ allErrors: true, verbose: true, strictTypes: false, allowUnionTypes: true });
addFormats(ajv);
// RFC 4122's form only: ajv-formats also accepts "urn:uuid:…", which is no user id of ours.
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
ajv.addSchema(eventSchemas);

const validators = new Map<string, ValidateFunction>();

/** Compiled on first use, once: consumers call this for every message. */
function validator(definition: string): ValidateFunction {
  let validate = validators.get(definition);
  if (!validate) {
    validate = ajv.getSchema(`${eventSchemas.$id}#/definitions/${definition}`);
    if (!validate) throw new Error(`events.schema.json has no definition ${definition}`);
    validators.set(definition, validate);
  }
  return validate;
}

function deref(schema: Schema): Schema {
  const name = typeof schema.$ref === 'string' ? /^#\/definitions\/(.+)$/.exec(schema.$ref)?.[1] : undefined;
  return name ? (eventSchemas.definitions as Record<string, Schema>)[name] : schema;
}

/** The problems of an event's value; `cause` says where its event type came from (it names it in a problem). */
export function valueProblems(type: EventType, value: unknown, cause: string): string[] {
  const validate = validator(EVENT_SCHEMAS[type].value);
  if (validate(value)) return [];
  return describeErrors(validate.errors ?? [], {
    name: (path) => (path === '' ? 'the message' : path),
    expected: { eventType: `"${type}" (${cause})` },
    deref,
  });
}

/** The problems of an event's headers (none for an event without a headers schema). */
export function headerProblems(type: EventType, headers: Record<string, string>): string[] {
  const definition = EVENT_SCHEMAS[type].headers;
  if (!definition) return [];
  const validate = validator(definition);
  if (validate(headers)) return [];
  return describeErrors(validate.errors ?? [], { name: (path) => `header ${path}`, deref });
}
