import { Kafka, logLevel } from 'kafkajs';
import { AppConfig } from '../config/config';

export function createKafka(config: AppConfig['kafka']): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: config.retryInitialMs, maxRetryTime: config.retryMaxMs, retries: config.retries },
  });
}
