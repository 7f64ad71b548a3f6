// Re-publishes dead letters from user-service.dlq to the topics they came from, with their original key, value and
// headers, for the service's consumer to apply again (after a fix, or once the user they named exists):
//
//   npm run dlq:replay -- [--reason R] [--since T] [--until T] [--dry-run]
//
// --reason: unparseable, invalid, unknown_user or rejected_by_database (dlq_reason); --since (inclusive) and --until
// (exclusive): ISO 8601 times with an offset, or dates (UTC midnight), compared with dlq_failed_at; --dry-run: count
// what would be replayed, publish nothing. Uses the service's KAFKA_* settings. Prints what it replayed, per source
// topic and reason, and exits 0 (1 with the error).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, loadDotEnv } from '../src/config/config';
import { replayDeadLetters, ReplayFilter, ReplayReport } from '../src/messaging/dead-letter-replay';
import { createKafka } from '../src/messaging/kafka-client';
import { DEAD_LETTER_TOPIC } from '../src/users/usage-events/dead-letter';

const REASONS = ['unparseable', 'invalid', 'unknown_user', 'rejected_by_database'];

/** A wrong argument: its message is all the user needs. */
class UsageError extends Error {}

function parseFilter(argv: string[]): ReplayFilter {
  const { values } = parseArgs({
    args: argv,
    options: { reason: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, 'dry-run': { type: 'boolean' } },
    strict: true,
  });
  if (values.reason !== undefined && !REASONS.includes(values.reason)) {
    throw new UsageError(`--reason must be one of ${REASONS.join(', ')}`);
  }
  return { reason: values.reason, since: time('--since', values.since), until: time('--until', values.until), dryRun: values['dry-run'] };
}

function time(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = /^\d{4}-\d\d-\d\d$/.test(value) ? `${value}T00:00:00Z` : value;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(date) || Number.isNaN(Date.parse(date))) {
    throw new UsageError(`${name} must be an ISO 8601 date, or date and time with an offset (2026-11-26T09:00:00Z)`);
  }
  return new Date(date);
}

function print(report: ReplayReport, dryRun: boolean): void {
  const verb = dryRun ? 'would replay (dry run, nothing published)' : 'replayed';
  console.log(
    `Read ${report.read} dead letters from ${DEAD_LETTER_TOPIC}; ${report.matched} matched, ${verb} ${dryRun ? report.matched : report.replayed}`,
  );
  for (const [topic, reasons] of Object.entries(report.bySourceAndReason)) {
    for (const [reason, count] of Object.entries(reasons)) console.log(`  ${topic}\t${reason}\t${count}`);
  }
  if (report.skipped > 0) console.log(`Skipped ${report.skipped} matching messages without a dlq_source_topic header`);
}

async function main(): Promise<void> {
  const filter = parseFilter(process.argv.slice(2));
  loadDotEnv();
  const config = loadConfig();
  if (config.kafka.brokers.length === 0) throw new UsageError('KAFKA_BROKERS is not set: there is no Kafka to replay from');
  const report = await replayDeadLetters(createKafka(config.kafka), DEAD_LETTER_TOPIC, filter);
  print(report, filter.dryRun ?? false);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof ConfigError || error instanceof UsageError || error instanceof TypeError ? error.message : error);
    process.exit(1);
  },
);
