import { Kafka, logLevel } from 'kafkajs';
import { AppConfig } from '../config/config';

/** `level`: the outbox relay passes NOTHING because it reports failures itself, once per outage rather than per retry. */
export function createKafka(config: AppConfig['kafka'], level = logLevel.WARN): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: level,
    retry: { initialRetryTime: config.retryInitialMs, maxRetryTime: config.retryMaxMs, retries: config.retries },
  });
}
