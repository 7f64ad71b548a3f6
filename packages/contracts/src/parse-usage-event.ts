import { claimedType, EventMessage, failure, isOneOf, ParseResult, readValue } from './event-message';
import { valueProblems } from './event-schemas';
import { USAGE_EVENT_TYPES, UsageEvent } from './generated/events';

/**
 * Checks an event user-service consumes (interview.*, candidate.added, media.*) against asyncapi.yaml's schemas:
 * tolerant of fields it does not know, strict about those it reads. Their producers send no CloudEvents headers,
 * so none are checked. The event type comes from the topic if given, else from the value.
 */
export function parseUsageEvent(message: EventMessage): ParseResult<UsageEvent> {
  const value = readValue(message);
  if (!value.ok) return value;
  const type = claimedType(message, value.body);
  if (!isOneOf(USAGE_EVENT_TYPES, type)) {
    const problem =
      type === undefined
        ? 'the message names no event type (no topic or eventType)'
        : `${type} is not one of the events user-service consumes (${USAGE_EVENT_TYPES.join(', ')})`;
    return failure('unknown_type', [problem], type);
  }
  const problems = valueProblems(type, value.body, message.topic !== undefined ? 'the topic' : 'its eventType');
  return problems.length > 0 ? failure('invalid', problems, type) : { ok: true, event: value.body as UsageEvent };
}
