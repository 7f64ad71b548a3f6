// @user-service/contracts: what other services need to talk to user-service, generated from its openapi.json
// and asyncapi.yaml (src/generated, `npm run contracts` in the service's repository).
export * from './generated/openapi';
export * from './generated/events';
export * from './client';
export * from './schemas';
export type { EventError, EventErrorKind, EventMessage, ParseResult } from './event-message';
export { parseUserEvent } from './parse-user-event';
export { parseUsageEvent } from './parse-usage-event';
