import { claimedType, EventMessage, failure, isOneOf, ParseResult, readHeaders, readValue } from './event-message';
import { headerProblems, valueProblems } from './event-schemas';
import { USER_EVENT_TYPES, UserEvent } from './generated/events';

/**
 * Checks a message user-service published on a user.* topic against asyncapi.yaml's schemas: the JSON value
 * against its event's schema, the key against its userId, the CloudEvents headers against theirs and against
 * the value. The event type comes from the topic if given, else from ce_type, else from the value.
 */
export function parseUserEvent(message: EventMessage): ParseResult<UserEvent> {
  const value = readValue(message);
  if (!value.ok) return value;
  const { headers, problems: repeated } = readHeaders(message);
  const type = claimedType(message, value.body, headers.ce_type);
  if (!isOneOf(USER_EVENT_TYPES, type)) {
    const problem =
      type === undefined
        ? 'the message names no event type (no topic, ce_type header or eventType)'
        : `${type} is not one of the events this version of @user-service/contracts knows (${USER_EVENT_TYPES.join(', ')})`;
    return failure('unknown_type', [problem], type);
  }

  const cause = message.topic !== undefined ? 'the topic' : headers.ce_type !== undefined ? 'the ce_type header' : 'its eventType';
  const problems = valueProblems(type, value.body, cause);
  const event = value.body as UserEvent;
  const key = message.key?.toString();
  if (problems.length === 0 && key !== undefined && key !== event.userId) {
    problems.push(`the key must be the userId (${event.userId}), not ${key}`);
  }
  if (problems.length > 0) return failure('invalid', problems, type);

  if (repeated.length > 0) return failure('bad_headers', repeated, type);
  const malformed = headerProblems(type, headers);
  const badHeaders = malformed.length > 0 ? malformed : disagreements(headers, event);
  if (badHeaders.length > 0) return failure('bad_headers', badHeaders, type);
  return { ok: true, event };
}

/** The CloudEvents attributes repeat envelope fields: each must say the same as the value. */
function disagreements(headers: Record<string, string>, event: UserEvent): string[] {
  const pairs = [
    ['ce_id', 'eventId', event.eventId],
    ['ce_type', 'eventType', event.eventType],
    ['ce_time', 'timestamp', event.timestamp],
    ['ce_subject', 'userId', event.userId],
  ];
  return pairs
    .filter(([header, , value]) => headers[header] !== value)
    .map(([header, field, value]) => `header ${header} must be the ${field} (${value})`);
}
