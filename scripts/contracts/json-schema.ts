// The contracts' JSON Schema documents (draft-07): openapi.json's and asyncapi.yaml's component schemas as
// `definitions` of one document each, so that any JSON Schema validator can use them without an OpenAPI tool.

export type Schema = Record<string, unknown>;

export const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/** One document whose `definitions` are the components' schemas, `#/components/schemas/X` refs now `#/definitions/X`. */
export function schemaDocument(id: string, description: string, schemas: Record<string, Schema>, convert: (s: Schema) => Schema): Schema {
  const definitions = Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, walk(schema, convert)]));
  return { $schema: DRAFT_07, $id: id, description, definitions };
}

/** AsyncAPI's schema format is a superset of draft-07 that these schemas do not go beyond. */
export function fromAsyncApi(schema: Schema): Schema {
  return rewriteRef(schema);
}

/** OpenAPI 3.0's schema object differs from draft-07 in `nullable` and `example`, and in a few keywords of its own. */
export function fromOpenApi30(schema: Schema): Schema {
  const { nullable, example, discriminator: _d, xml: _x, externalDocs: _e, deprecated: _p, ...rest } = rewriteRef(schema);
  for (const key of Object.keys(rest)) if (key.startsWith('x-')) delete rest[key];
  if (example !== undefined) rest.examples = [example];
  if (nullable !== true) return rest;
  const composed = ['$ref', 'allOf', 'anyOf', 'oneOf'].some((key) => rest[key] !== undefined);
  if (typeof rest.type === 'string' && !composed) {
    const nullableEnum = Array.isArray(rest.enum) ? { enum: [...rest.enum, null] } : {};
    return { ...rest, type: [rest.type, 'null'], ...nullableEnum };
  }
  // A $ref or a composition (Nest writes a nullable $ref as `{type: object, nullable, allOf: [$ref]}`): null or the
  // schema (its description stays on the outside).
  const { description, ...inner } = rest;
  return { ...(description === undefined ? {} : { description }), anyOf: [inner, { type: 'null' }] };
}

function rewriteRef(schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || ref.startsWith('#/definitions/')) return { ...schema };
  const name = /^#\/components\/schemas\/([^/]+)$/.exec(ref);
  if (!name) throw new Error(`Only references to #/components/schemas/* are supported, found ${ref}`);
  return { ...schema, $ref: `#/definitions/${name[1]}` };
}

/** Applies `convert` to a schema and every schema inside it (not to property names or examples). */
function walk(schema: Schema, convert: (s: Schema) => Schema): Schema {
  const out = convert(schema);
  const sub = (value: unknown) => (isSchema(value) ? walk(value, convert) : value);
  for (const key of ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames']) {
    if (out[key] !== undefined) out[key] = sub(out[key]);
  }
  for (const key of ['allOf', 'anyOf', 'oneOf']) {
    if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map(sub);
  }
  for (const key of ['properties', 'patternProperties', 'definitions']) {
    if (isSchema(out[key])) out[key] = Object.fromEntries(Object.entries(out[key] as Schema).map(([name, value]) => [name, sub(value)]));
  }
  return out;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
