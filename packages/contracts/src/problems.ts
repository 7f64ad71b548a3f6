import type { ErrorObject } from 'ajv';

export type Schema = { [keyword: string]: unknown };

export interface Wording {
  /** How a field is named: `data.fileSize`, `header ce_id`. */
  name(path: string): string;
  /** What a field must be where the schema alone does not say it best, e.g. eventType: the topic. */
  expected?: Record<string, string>;
  /** The schema a `$ref` points to. */
  deref(schema: Schema): Schema;
}

/** The envelope's fields, in the order problems are listed. */
const FIELD_ORDER = ['eventId', 'eventType', 'timestamp', 'userId', 'data'];

/**
 * Ajv's errors (validated with `verbose`, so each carries its schema) as one sentence per field, saying what the
 * field must be rather than which keyword failed: `userId must be a UUID`, `data.fileSize must be a whole number
 * from 0 to 2^53-1`. A field that fails several keywords (or both branches of an allOf) is named once.
 */
export function describeErrors(errors: ErrorObject[], wording: Wording): string[] {
  const byPath = new Map<string, string>();
  for (const error of errors) {
    const [path, sentence] = describe(error, wording);
    if (!byPath.has(path)) byPath.set(path, sentence);
  }
  return [...byPath.entries()].sort(([a], [b]) => rank(a) - rank(b)).map(([, sentence]) => sentence);
}

function describe(error: ErrorObject, wording: Wording): [string, string] {
  const at = pointerToPath(error.instancePath);
  const schema = (error.parentSchema ?? {}) as Schema;
  const mustBe = (path: string, fieldSchema: Schema | undefined): [string, string] => {
    const expected = wording.expected?.[path] ?? (fieldSchema && expectation(wording.deref(fieldSchema)));
    return [path, `${wording.name(path)} ${expected ? `must be ${expected}` : (error.message ?? 'is invalid')}`];
  };
  switch (error.keyword) {
    case 'required': {
      const path = child(at, error.params.missingProperty);
      return mustBe(path, (schema.properties as Record<string, Schema> | undefined)?.[error.params.missingProperty]);
    }
    case 'additionalProperties': {
      const path = child(at, error.params.additionalProperty);
      return [path, `${wording.name(path)} is not allowed`];
    }
    case 'minProperties':
      return [at, `${wording.name(at)} must have at least ${plural(error.params.limit, 'field')}`];
    case 'minItems':
      return [at, `${wording.name(at)} must have at least ${plural(error.params.limit, 'item')}`];
    case 'type':
      if (at === '') return [at, `${wording.name(at)} must be a JSON object`];
      return mustBe(at, schema);
    case 'format':
    case 'minLength':
    case 'maxLength':
    case 'minimum':
    case 'maximum':
    case 'enum':
    case 'const':
      return mustBe(at, schema);
    default:
      return [at, `${wording.name(at)} ${error.message ?? 'is invalid'}`];
  }
}

/** What a value must be to match `schema`, in words; undefined where the schema has no simple answer. */
export function expectation(schema: Schema): string | undefined {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const types = [schema.type].flat().filter((t): t is string => typeof t === 'string');
  if (types.length === 0) return undefined;
  return types.map((type) => typeExpectation(type, schema)).join(' or ');
}

const FORMATS: Record<string, string> = {
  uuid: 'a UUID',
  'date-time': 'an ISO 8601 date and time',
  date: 'an ISO 8601 date',
  email: 'an email address',
  uri: 'a URI',
};

function typeExpectation(type: string, schema: Schema): string {
  const { minLength, maxLength, minimum, maximum, format } = schema as Record<string, number | string | undefined>;
  switch (type) {
    case 'string':
      if (typeof format === 'string' && FORMATS[format]) return FORMATS[format];
      if (minLength !== undefined && maxLength !== undefined) return `a string of ${minLength} to ${maxLength} characters`;
      if (maxLength !== undefined) return `a string of at most ${maxLength} characters`;
      if (minLength === 1) return 'a non-empty string';
      return minLength !== undefined ? `a string of at least ${minLength} characters` : 'a string';
    case 'integer':
    case 'number': {
      const noun = type === 'integer' ? 'a whole number' : 'a number';
      if (minimum !== undefined && maximum !== undefined) return `${noun} from ${big(minimum)} to ${big(maximum)}`;
      if (minimum !== undefined) return `${noun} of at least ${big(minimum)}`;
      return maximum !== undefined ? `${noun} of at most ${big(maximum)}` : noun;
    }
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    default:
      return type;
  }
}

function big(n: number | string): string {
  return n === Number.MAX_SAFE_INTEGER ? '2^53-1' : String(n);
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `/data/variants/0/url` → `data.variants[0].url`. */
function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : child(path, segment)), '');
}

function child(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function rank(path: string): number {
  const index = FIELD_ORDER.indexOf(path.split(/[.[]/)[0]);
  return index === -1 ? FIELD_ORDER.length : index;
}
