import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { eventSchemas, EVENT_SCHEMAS, restSchemas, USAGE_EVENT_TYPES, USER_EVENT_TYPES } from '../src';

describe('the JSON Schemas', () => {
  it('are draft-07 documents any strict validator compiles, definition by definition', () => {
    const ajv = new Ajv({ strict: true, allowUnionTypes: true });
    addFormats(ajv);
    for (const document of [restSchemas, eventSchemas]) {
      expect(document.$schema).toBe('http://json-schema.org/draft-07/schema#');
      ajv.addSchema(document);
      for (const name of Object.keys(document.definitions)) {
        expect({ name, compiled: typeof ajv.getSchema(`${document.$id}#/definitions/${name}`) }).toEqual({ name, compiled: 'function' });
      }
    }
  });

  it('cover every event published and consumed', () => {
    expect(Object.keys(EVENT_SCHEMAS)).toEqual([...USER_EVENT_TYPES, ...USAGE_EVENT_TYPES]);
    for (const { value, headers } of Object.values(EVENT_SCHEMAS)) {
      expect(eventSchemas.definitions).toHaveProperty(value);
      if (headers) expect(eventSchemas.definitions).toHaveProperty(headers);
    }
    expect(restSchemas.definitions).toHaveProperty('UserResponse');
    expect(restSchemas.definitions).toHaveProperty('ErrorResponse');
  });
});
