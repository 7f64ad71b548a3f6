import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONSUMED_TOPICS } from '../src/users/usage-events/consumed-event';
import { call, createUser, INTERNAL_TOKEN } from './support/app';
import { buildService, Service, startService } from './support/built-service';
import { sql } from './support/database';
import { waitFor } from './support/wait';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { kafkaEnv, readTopic, testKafka, testProducer } from './support/kafka';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number; // 2 server, 3 client
  attributes: { key: string; value: { stringValue?: string; arrayValue?: { values: { stringValue: string }[] } } }[];
  links: { traceId: string; spanId: string }[];
}

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

/** An OTLP/HTTP receiver taking JSON, as Jaeger or an OpenTelemetry Collector would: keeps the spans it is sent. */
async function startReceiver() {
  const spans: OtlpSpan[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url === '/v1/traces' && request.headers['content-type'] === 'application/json') {
        for (const resource of JSON.parse(body).resourceSpans) {
          for (const scope of resource.scopeSpans) spans.push(...scope.spans);
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

function attribute(span: OtlpSpan, key: string) {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.arrayValue ? value.arrayValue.values.map((v) => v.stringValue) : value?.stringValue;
}

describe('tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let service: Service;
  let broker: KafkaBroker;
  let userId: string;
  let token: string;

  beforeAll(async () => {
    await buildService();
    receiver = await startReceiver();
    broker = await startKafkaBroker();
    for (const topic of CONSUMED_TOPICS) await broker.createTopic(topic, 1);
    service = await startService({
      ...kafkaEnv(broker, 'tracing-e2e'),
      INTERNAL_API_TOKEN: INTERNAL_TOKEN,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    ({ id: userId, token } = await createUser(service.url));
  }, 120_000);
  afterAll(async () => {
    if (service?.child.exitCode === null) service.child.kill('SIGKILL');
    await broker?.stop();
    await receiver?.close();
  });

  const serverSpan = (traceId: string) => receiver.spans.find((s) => s.traceId === traceId && s.kind === SERVER);

  it("continues the caller's trace: a server span named by route, with the query under it", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await call(service.url, 'GET', `/api/v1/users/${userId}`, {
      token,
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(traceId);

    const server = await waitFor(() => serverSpan(traceId), 10_000, 'the server span');
    expect(server.name).toBe('GET /api/v1/users/:id');
    expect(attribute(server, 'http.route')).toBe('/api/v1/users/:id');
    expect(server.parentSpanId).toBe('00f067aa0ba902b7');
    const query = await waitFor(() => receiver.spans.find((s) => s.traceId === traceId && s.kind === CLIENT), 10_000, 'the query span');
    expect(query.parentSpanId).toBe(server.spanId);
    expect(attribute(query, 'db.system.name')).toBe('postgresql');
    // The statement, never its values.
    expect(attribute(query, 'db.query.text')).toContain('FROM users WHERE id = $1');
    expect(JSON.stringify(query)).not.toContain(userId);
  });

  it("without a traceparent the new trace's id is the request's id, and a gateway's X-Request-Id stays on the span", async () => {
    const res = await call(service.url, 'GET', '/api/v1/users/00000000-0000-4000-8000-000000000000', {
      token,
      headers: { 'x-request-id': 'gw-req-42' },
    });
    expect(res.status).toBe(404);
    const traceId = res.headers.get('x-request-id')!;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(res.body.traceId).toBe(traceId);
    const server = await waitFor(() => serverSpan(traceId), 10_000, 'the server span');
    expect(attribute(server, 'http.request.header.x-request-id')).toEqual(['gw-req-42']);
  });

  it('leaves scrapes and probes out', async () => {
    expect((await fetch(`${service.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
    // A request after them: once its span is in, theirs would be too.
    const traceId = (await call(service.url, 'GET', `/api/v1/users/${userId}`, { token })).headers.get('x-request-id')!;
    await waitFor(() => serverSpan(traceId), 10_000, 'the later request');
    const paths = receiver.spans.filter((s) => s.kind === SERVER).map((s) => attribute(s, 'url.path'));
    expect(paths).toContain(`/api/v1/users/${userId}`);
    expect(paths.filter((path) => /^\/(metrics|health)/.test(String(path)))).toEqual([]);
  });

  it('exports the spans still buffered when it shuts down', async () => {
    const lazy = await startService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '600000' });
    try {
      const traceId = (await call(lazy.url, 'GET', `/api/v1/users/${userId}`, { token })).headers.get('x-request-id')!;
      await new Promise((r) => setTimeout(r, 300));
      expect(serverSpan(traceId)).toBeUndefined();
      lazy.child.kill('SIGTERM');
      expect(await lazy.exited).toBe(0);
      expect(serverSpan(traceId)?.name).toBe('GET /api/v1/users/:id');
    } finally {
      if (lazy.child.exitCode === null) lazy.child.kill('SIGKILL');
    }
  });

  describe('of Kafka traffic', () => {
    const newUserId = async () => (await createUser(service.url)).id;

    it('publishes with a producer span whose context travels in the message', async () => {
      const userId = await newUserId();
      const messages = await readTopic(testKafka(broker), 'user.created', (read) => read.some((m) => m.key === userId));
      const message = messages.find((m) => m.key === userId)!;
      const traceId = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(message.headers.traceparent)?.[1];
      expect(traceId).toBeDefined();
      const span = await waitFor(
        () => receiver.spans.find((s) => s.traceId === traceId && s.kind === PRODUCER),
        10_000,
        'the producer span',
      );
      expect(span.name).toContain('user.created');
    });

    it('applies a consumed batch in a trace of its own, each message linked to its producer, the database work inside', async () => {
      const userId = await newUserId();
      const producerTrace = '0af7651916cd43dd8448eb211c80319c';
      const producer = await testProducer(testKafka(broker));
      try {
        await producer.send({
          topic: 'interview.created',
          messages: [
            {
              key: userId,
              value: JSON.stringify({
                eventId: randomUUID(),
                eventType: 'interview.created',
                timestamp: new Date().toISOString(),
                userId,
                data: { interviewId: 'traced' },
              }),
              headers: { traceparent: `00-${producerTrace}-b7ad6b7169203331-01` },
            },
          ],
        });
      } finally {
        await producer.disconnect();
      }
      // OpenTelemetry's convention for batches: a "poll" (receive) span, under it one "process" span per message linked to
      // the message's producer span (a batch has many producers, so none of them is its parent).
      const processed = await waitFor(
        () =>
          receiver.spans.find(
            (s) => s.kind === CONSUMER && s.links.some((l) => l.traceId === producerTrace && l.spanId === 'b7ad6b7169203331'),
          ),
        20_000,
        'the process span',
      );
      expect(processed.name).toBe('process interview.created');
      const batch = receiver.spans.filter((s) => s.traceId === processed.traceId);
      const receive = batch.find((s) => s.spanId === processed.parentSpanId)!;
      expect(receive.name).toBe('poll interview.created');
      const queries = await waitFor(
        () => {
          const found = receiver.spans.filter((s) => s.traceId === processed.traceId && attribute(s, 'db.system.name') === 'postgresql');
          return found.length > 0 ? found : undefined;
        },
        10_000,
        'the query spans',
      );
      // One transaction for the batch: its idempotency insert and the stats update (with its audit entries, one statement).
      expect(queries.map((q) => q.name.split(' ')[0])).toEqual(
        expect.arrayContaining(['pg.query:INSERT', 'pg.query:save_usage', 'pg.query:COMMIT']),
      );
      expect(queries.map((q) => q.parentSpanId)).toEqual(queries.map(() => receive.spanId));
      const [row] = await sql<{ interviews_created: number }>('SELECT interviews_created FROM users WHERE id = $1', [userId]);
      expect(row.interviews_created).toBe(1);
    });
  });
});
