import { Injectable } from '@nestjs/common';
import { IncomingMessage } from '../../messaging/event-consumer';
import { EventPublisher, OutgoingMessage } from '../../messaging/event-publisher';
import { Metrics } from '../../observability/metrics';
import { UsageRecorder, UserRepository } from '../persistence/user.repository';
import { ConsumedEvent, parseConsumedEvent } from './consumed-event';
import { deadLetter } from './dead-letter';

export interface Projection {
  applied: number;
  duplicates: number;
  deadLetters: number;
}

/**
 * Turns interview, candidate and media events into user stats. A batch is one transaction of
 * UserRepository.recordUsageOnce: claim the event ids (processed_events), lock the users they name, apply
 * the new events through the aggregate (so versions and quota threshold events follow the usual rules),
 * save, commit. Each changed user gets one audit entry per batch, by `event:<topic>`. Dead letters are published
 * before the commit: a crash may send one twice, never lose it.
 */
@Injectable()
export class StatsProjector {
  constructor(
    private readonly users: UserRepository,
    private readonly publisher: EventPublisher,
    private readonly metrics: Metrics,
  ) {}

  /**
   * A batch PostgreSQL refuses as bad data (a counter past its type's range, a violated check) would come
   * back forever and stall its partition: it is applied again one event at a time, and an event refused on
   * its own is dead-lettered. Any other failure (the database away) throws, and the batch comes again.
   */
  async project(batch: IncomingMessage[], now = new Date()): Promise<Projection> {
    try {
      return await this.projectTogether(batch, now);
    } catch (error) {
      if (!refusedAsData(error)) throw error;
    }
    const total: Projection = { applied: 0, duplicates: 0, deadLetters: 0 };
    for (const message of batch) {
      const one = await this.projectAlone(message, now);
      total.applied += one.applied;
      total.duplicates += one.duplicates;
      total.deadLetters += one.deadLetters;
    }
    return total;
  }

  private async projectAlone(message: IncomingMessage, now: Date): Promise<Projection> {
    try {
      return await this.projectTogether([message], now);
    } catch (error) {
      if (!refusedAsData(error)) throw error;
      await this.publisher.publish([deadLetter(message, 'rejected_by_database', (error as Error).message, now)]);
      this.metrics.eventDeadLettered(message.topic);
      return { applied: 0, duplicates: 0, deadLetters: 1 };
    }
  }

  private async projectTogether(batch: IncomingMessage[], now: Date): Promise<Projection> {
    const deadLetters: OutgoingMessage[] = [];
    const events: Array<ConsumedEvent & { message: IncomingMessage; traceId: string | null }> = [];
    for (const message of batch) {
      const parsed = parseConsumedEvent(message);
      if (parsed.ok) events.push({ ...parsed.event, message, traceId: traceIdOf(message) });
      else deadLetters.push(deadLetter(message, parsed.reason, parsed.error, now));
    }

    const { result: applied, duplicates } = await this.users.recordUsageOnce(
      events,
      (fresh, users) =>
        fresh.filter((event) => {
          const user = users.get(event.userId);
          if (user) applyEvent(user, event, now);
          else deadLetters.push(deadLetter(event.message, 'unknown_user', `no live user ${event.userId}`, now));
          return user !== undefined;
        }),
      () => this.publisher.publish(deadLetters),
    );
    // Counted once the transaction committed: a rolled-back batch comes again.
    for (const event of applied) this.metrics.eventConsumed(event.eventType);
    for (const event of duplicates) this.metrics.duplicateSkipped(event.eventType);
    for (const letter of deadLetters) this.metrics.eventDeadLettered(letter.headers.dlq_source_topic ?? 'unknown');
    return { applied: applied.length, duplicates: duplicates.length, deadLetters: deadLetters.length };
  }
}

/** The producer's trace id (W3C traceparent header), which the audit entry of the change records. */
function traceIdOf(message: IncomingMessage): string | null {
  return /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(message.headers.traceparent ?? '')?.[1] ?? null;
}

/** PostgreSQL's data exceptions (class 22) and integrity violations (class 23): retrying changes nothing. */
function refusedAsData(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

function applyEvent(user: UsageRecorder, event: ConsumedEvent, now: Date): void {
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
