import events from './generated/events.schema.json';
import rest from './generated/rest.schema.json';

/** A draft-07 JSON Schema document whose `definitions` are the component schemas of openapi.json or asyncapi.yaml. */
export interface JsonSchemaDocument {
  $schema: string;
  $id: string;
  description: string;
  definitions: Record<string, object>;
}

/** The REST request and response bodies: `${restSchemas.$id}#/definitions/UserResponse`… (also `@user-service/contracts/schemas/rest.json`). */
export const restSchemas: JsonSchemaDocument = rest;

/** The events' values and headers: `${eventSchemas.$id}#/definitions/UserCreated`… (also `@user-service/contracts/schemas/events.json`). */
export const eventSchemas: JsonSchemaDocument = events;
