// A service that keeps a directory of user-service's users: consumes the user.* topics with kafkajs, checks
// each message with parseUserEvent and fetches the full record with the typed client. One JSON line per change.
//
//   KAFKA_BROKERS=localhost:9092 USER_SERVICE_URL=http://localhost:3003 INTERNAL_API_TOKEN=… \
//     node -r ts-node/register/transpile-only examples/user-directory-sync/src/main.ts
import { createUserServiceClient, USER_EVENT_TYPES } from '@user-service/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { UserDirectory } from './user-directory';

function setting(name: string, fallback?: string): string {
  const value = process.env[name] || fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const report = (line: object) => console.log(JSON.stringify(line));
  const client = createUserServiceClient({
    baseUrl: setting('USER_SERVICE_URL', 'http://localhost:3003'),
    internalToken: setting('INTERNAL_API_TOKEN'),
  });
  const directory = new UserDirectory(client, report);

  const kafka = new Kafka({ clientId: 'user-directory-sync', brokers: setting('KAFKA_BROKERS').split(','), logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({
    groupId: setting('KAFKA_GROUP_ID', 'user-directory-sync'),
    // How long a fetch may wait for new messages (kafkajs' default 5 s), as the service's own KAFKA_MAX_WAIT_MS.
    maxWaitTimeInMs: Number(setting('KAFKA_MAX_WAIT_MS', '5000')),
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => report({ joined: payload.groupId }));
  await consumer.connect();
  await consumer.subscribe({ topics: [...USER_EVENT_TYPES], fromBeginning: true });
  await consumer.run({ eachMessage: ({ topic, message }) => directory.handle({ ...message, topic }) });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      consumer.disconnect().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
