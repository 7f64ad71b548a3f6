import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { IncomingMessage } from 'node:http';
import { loadDotEnv } from '../config/config';

/** Requests that would only add noise to traces: scrapes, probes, the docs. */
const UNTRACED = /^\/(metrics|health|docs)(\/|\?|-|$)/;

/**
 * OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
 * is set: a span for each incoming request (named by route template), each PostgreSQL query, each
 * outgoing HTTP call (S3, JWKS) and each Kafka produce and consume, exported over OTLP/HTTP to
 * Jaeger, Tempo or an OpenTelemetry Collector. The SDK's own variables apply (OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_BSP_*).
 *
 * Off, none of it is loaded. On, it must run before http, pg and kafkajs are first required, which
 * is why main.ts imports this module before anything else and it reads the environment itself.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): NodeTracerProvider | null {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return null;
  // Loaded here, not imported at the top, so that a service without tracing never loads the SDK.
  const { NodeTracerProvider, BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { detectResources, envDetector, resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { KafkaJsInstrumentation } =
    require('@opentelemetry/instrumentation-kafkajs') as typeof import('@opentelemetry/instrumentation-kafkajs');

  const provider = new NodeTracerProvider({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the default name.
    resource: resourceFromAttributes({ 'service.name': 'user-service' }).merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED.test(request.url ?? ''),
        // A gateway's request id stays searchable in the trace when the trace id becomes the request's id.
        headersToSpanAttributes: { server: { requestHeaders: ['x-request-id'] } },
      }),
      // Queries outside a request or a consumed batch (the relay's polling, start-up) would each be a trace.
      new PgInstrumentation({ ignoreConnectSpans: true, requireParentSpan: true }),
      new KafkaJsInstrumentation(),
    ],
  });
  return provider;
}

/** Started once, by the first import (main.ts's); a .env file counts, as it does for the rest of the config. */
loadDotEnv();
export const tracing = startTracing();
