import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { IncomingMessage } from '../../messaging/event-consumer';
import { EventPublisher, OutgoingMessage } from '../../messaging/event-publisher';
import { claimEvents } from '../../messaging/inbox';
import { Metrics } from '../../observability/metrics';
import { User } from '../domain/user';
import { lockUsers, saveUsage } from '../persistence/user-batch';
import { ConsumedEvent, parseConsumedEvent } from './consumed-event';
import { deadLetter } from './dead-letter';

export interface Projection {
  applied: number;
  duplicates: number;
  deadLetters: number;
}

/**
 * Turns interview, candidate and media events into user stats. A batch is one transaction: claim the
 * event ids (processed_events), lock the users they name, apply the new events through the aggregate
 * (so versions and quota threshold events follow the usual rules), save, commit. Dead letters are
 * published before the commit: a crash may send one twice, never lose it.
 */
@Injectable()
export class StatsProjector {
  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: EventPublisher,
    private readonly metrics: Metrics,
  ) {}

  async project(batch: IncomingMessage[], now = new Date()): Promise<Projection> {
    const deadLetters: OutgoingMessage[] = [];
    const events: Array<{ event: ConsumedEvent; message: IncomingMessage }> = [];
    for (const message of batch) {
      const parsed = parseConsumedEvent(message);
      if (parsed.ok) events.push({ event: parsed.event, message });
      else deadLetters.push(deadLetter(message, parsed.reason, parsed.error, now));
    }

    const outcome = await this.dataSource.transaction(async (manager) => {
      const fresh = await claimEvents(
        manager,
        events.map(({ event, message }) => ({ eventId: event.eventId, topic: message.topic })),
      );
      // A redelivered event and a second copy within the batch are both skipped.
      const toApply = events.filter(({ event }) => fresh.delete(event.eventId));
      const users = await lockUsers(manager, [...new Set(toApply.map(({ event }) => event.userId))].sort());
      const applied: ConsumedEvent[] = [];
      for (const { event, message } of toApply) {
        const user = users.get(event.userId);
        if (user) {
          applyEvent(user, event, now);
          applied.push(event);
        } else {
          deadLetters.push(deadLetter(message, 'unknown_user', `no live user ${event.userId}`, now));
        }
      }
      await saveUsage(manager, [...users.values()]);
      await this.publisher.publish(deadLetters);
      return { applied, duplicates: events.filter((e) => !toApply.includes(e)).map(({ event }) => event) };
    });
    // Counted once the transaction committed: a rolled-back batch comes again.
    for (const event of outcome.applied) this.metrics.eventConsumed(event.eventType);
    for (const event of outcome.duplicates) this.metrics.duplicateSkipped(event.eventType);
    for (const letter of deadLetters) this.metrics.eventDeadLettered(letter.headers.dlq_source_topic ?? 'unknown');
    return { applied: outcome.applied.length, duplicates: outcome.duplicates.length, deadLetters: deadLetters.length };
  }
}

function applyEvent(user: User, event: ConsumedEvent, now: Date): void {
  switch (event.eventType) {
    case 'interview.created':
      user.recordInterviewCreated(now);
      break;
    case 'interview.completed':
    case 'interview.deleted':
      user.recordInterviewClosed(now);
      break;
    case 'candidate.added':
      user.recordCandidateAdded(now);
      break;
    case 'media.uploaded':
      user.recordStorageAdded(event.fileSize, now);
      break;
    case 'media.deleted':
      user.recordStorageRemoved(event.fileSize, now);
      break;
  }
}
