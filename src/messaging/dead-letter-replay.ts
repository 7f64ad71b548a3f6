import { randomUUID } from 'node:crypto';
import { IHeaders, Kafka, Message, Partitioners } from 'kafkajs';

export interface ReplayFilter {
  /** dlq_reason equals this. */
  reason?: string;
  /** dlq_failed_at at or after this. */
  since?: Date;
  /** dlq_failed_at before this. */
  until?: Date;
  /** Count what would be replayed, publish nothing. */
  dryRun?: boolean;
}

export interface ReplayReport {
  /** Dead letters read: everything on the topic up to its end as of the start. */
  read: number;
  /** Those matching the filter, re-published unless a dry run. */
  matched: number;
  replayed: number;
  /** Matching dead letters without a dlq_source_topic header (not ours): left alone. */
  skipped: number;
  /** Matched per source topic and reason: `{ "interview.created": { "unknown_user": 3 } }`. */
  bySourceAndReason: Record<string, Record<string, number>>;
}

const READ_TIMEOUT_MS = 60_000;

/**
 * Re-publishes dead letters to the topic they came from (dlq_source_topic) with their original key, value and
 * headers (the dlq_* ones removed), for the consumer to apply again; its inbox (processed_events) makes a second
 * replay of the same messages harmless. Reads the dead-letter topic from the beginning with a consumer group of its
 * own, which is never committed, up to the end offsets fetched at the start: dead letters written meanwhile (a
 * replayed message failing again) wait for the next replay. Messages are re-published batch by batch, in the dead-letter
 * topic's order within each partition.
 */
export async function replayDeadLetters(kafka: Kafka, topic: string, filter: ReplayFilter): Promise<ReplayReport> {
  const report: ReplayReport = { read: 0, matched: 0, replayed: 0, skipped: 0, bySourceAndReason: {} };
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return report;

  // Not idempotent, one request in flight, as the service's own producer (librdkafka's mock has no idempotence).
  const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  const groupId = `user-service-dlq-replay-${randomUUID()}`;
  // A failure (a send the broker refuses) ends the replay with its error rather than retrying behind the report's back.
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, retry: { restartOnFailure: async () => false } });
  if (!filter.dryRun) await producer.connect();
  await consumer.connect();
  try {
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${topic} not read to its end within ${READ_TIMEOUT_MS / 1000} s`)), READ_TIMEOUT_MS);
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        clearTimeout(timer);
        reject(payload.error);
      });
      const finished = () => {
        if (ends.size > 0) return;
        clearTimeout(timer);
        resolve();
      };
      void consumer
        .subscribe({ topic, fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const end = ends.get(batch.partition);
              if (end === undefined) return;
              const replay: Array<{ topic: string; message: Message }> = [];
              for (const message of batch.messages) {
                if (BigInt(message.offset) >= end) break;
                report.read++;
                const headers = textHeaders(message.headers);
                if (!matches(headers, filter)) continue;
                const source = headers.dlq_source_topic;
                if (!source) {
                  report.skipped++;
                  continue;
                }
                report.matched++;
                const reason = headers.dlq_reason ?? 'unknown';
                const counts = (report.bySourceAndReason[source] ??= {});
                counts[reason] = (counts[reason] ?? 0) + 1;
                replay.push({
                  topic: source,
                  message: { key: message.key, value: message.value, headers: originalHeaders(message.headers) },
                });
              }
              if (!filter.dryRun && replay.length > 0) {
                await producer.sendBatch({ acks: -1, topicMessages: groupByTopic(replay) });
                report.replayed += replay.length;
              }
              const last = batch.messages.at(-1);
              if (last && BigInt(last.offset) + 1n >= end) {
                ends.delete(batch.partition);
                finished();
              }
            },
          }),
        )
        .catch(reject);
    });
    await done;
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    // The group never committed anything; deleting it is tidiness, and not every broker allows it.
    const cleanup = kafka.admin();
    await cleanup
      .connect()
      .then(() => cleanup.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => cleanup.disconnect());
  }
  return report;
}

function matches(headers: Record<string, string>, { reason, since, until }: ReplayFilter): boolean {
  if (reason !== undefined && headers.dlq_reason !== reason) return false;
  if (since === undefined && until === undefined) return true;
  const failedAt = Date.parse(headers.dlq_failed_at ?? '');
  if (Number.isNaN(failedAt)) return false;
  return (since === undefined || failedAt >= since.getTime()) && (until === undefined || failedAt < until.getTime());
}

/** The headers the message had before it was dead-lettered. */
function originalHeaders(headers: IHeaders | undefined): IHeaders {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => !name.startsWith('dlq_')));
}

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined) text[name] = String(value);
  return text;
}

function groupByTopic(messages: Array<{ topic: string; message: Message }>): Array<{ topic: string; messages: Message[] }> {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, message } of messages) {
    const list = byTopic.get(topic) ?? [];
    list.push(message);
    byTopic.set(topic, list);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
}
