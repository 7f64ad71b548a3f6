import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Metrics } from '../src/observability/metrics';
import { call, createUser, RunningApp, startApp, testConfig } from './support/app';
import { sql } from './support/database';
import { families, hasPromtool, parseSamples, promqlProblems, promtoolCheck, Sample, valueOf } from './support/prometheus';

describe('GET /metrics', () => {
  let api: RunningApp;
  let userId: string;
  let exposition: string;
  let samples: Sample[];

  beforeAll(async () => {
    api = await startApp();
    const { id, token, keycloakId } = await createUser(api.url);
    userId = id;
    await sql('UPDATE users SET storage_used = 4096 WHERE id = $1', [userId]);
    for (const path of [`/api/v1/users/${userId}`, `/api/v1/users/${userId}`, `/api/v1/users/by-keycloak/${keycloakId}`]) {
      expect((await call(api.url, 'GET', path, { token })).status).toBe(200);
    }
    expect((await call(api.url, 'PATCH', `/api/v1/users/${userId}`, { token, body: { profile: { bio: 'hi' } } })).status).toBe(200);
    // Changes nothing: not a profile update.
    expect((await call(api.url, 'PATCH', `/api/v1/users/${userId}`, { token, body: { profile: { bio: 'hi' } } })).status).toBe(200);
    expect((await call(api.url, 'GET', '/api/v1/users/not-a-uuid', { token })).status).toBe(400);
    expect((await call(api.url, 'GET', `/no/such/route/${userId}`)).status).toBe(404);

    const res = await fetch(`${api.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    exposition = await res.text();
    samples = parseSamples(exposition);
  });
  afterAll(() => api.close());

  (hasPromtool ? it : it.skip)('is valid exposition format that passes promtool check metrics', () => {
    expect(promtoolCheck(exposition)!.problems).toEqual([]);
    // The check can fail: a counter without _total, a family without help.
    expect(promtoolCheck('# TYPE broken counter\nbroken 1\n')!.problems).toEqual(
      expect.arrayContaining([expect.stringContaining('broken')]),
    );
    expect(promtoolCheck('broken{a="b" 1\n')!.problems).not.toEqual([]);
  });

  it('declares every metric of the service, with its type', () => {
    expect(Object.fromEntries([...families(exposition)].filter(([name]) => name.startsWith('user_service_')))).toEqual({
      user_service_users_total: 'counter',
      user_service_profiles_updated_total: 'counter',
      user_service_avatars_uploaded_total: 'counter',
      user_service_kafka_events_published_total: 'counter',
      user_service_kafka_events_consumed_total: 'counter',
      user_service_kafka_events_duplicates_skipped_total: 'counter',
      user_service_kafka_events_dead_lettered_total: 'counter',
      user_service_kafka_consumer_lag: 'gauge',
      user_service_database_query_duration_seconds: 'histogram',
      user_service_http_request_duration_seconds: 'histogram',
      user_service_outbox_pending_events: 'gauge',
      user_service_outbox_oldest_pending_age_seconds: 'gauge',
      user_service_storage_used_bytes: 'gauge',
      user_service_users_by_status: 'gauge',
      user_service_users_erased_total: 'counter',
      user_service_purge_runs_total: 'counter',
      user_service_purge_failures_total: 'counter',
    });
    expect(families(exposition).get('process_cpu_user_seconds_total')).toBe('counter');
    expect(families(exposition).get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('labels HTTP durations by route template, method and status class, never by raw URL', () => {
    const count = (labels: Record<string, string>) => valueOf(samples, 'user_service_http_request_duration_seconds_count', labels);
    expect(count({ route: '/api/v1/users/:id', method: 'GET', status_class: '2xx' })).toBe(2);
    expect(count({ route: '/api/v1/users/:id', method: 'GET', status_class: '4xx' })).toBe(1);
    expect(count({ route: '/api/v1/users/by-keycloak/:keycloakId', method: 'GET', status_class: '2xx' })).toBe(1);
    expect(count({ route: '/api/v1/users', method: 'POST', status_class: '2xx' })).toBe(1);
    expect(count({ route: '/api/v1/users/:id', method: 'PATCH', status_class: '2xx' })).toBe(2);
    expect(count({ route: 'unmatched', method: 'GET', status_class: '4xx' })).toBe(1);
    expect(exposition).not.toContain(userId);
    expect(exposition).not.toContain('not-a-uuid');
    expect(exposition).not.toContain('metrics-');
  });

  it('times database calls by operation', () => {
    const count = (operation: string) => valueOf(samples, 'user_service_database_query_duration_seconds_count', { operation });
    expect(count('create_user')).toBe(1);
    expect(count('user_by_id')).toBe(2);
    expect(count('user_by_keycloak_id')).toBe(1);
    expect(count('modify_user')).toBe(2);
    expect(valueOf(samples, 'user_service_database_query_duration_seconds_sum', { operation: 'user_by_id' })).toBeGreaterThan(0);
  });

  it('counts users created and profiles that changed', () => {
    expect(valueOf(samples, 'user_service_users_total')).toBe(1);
    expect(valueOf(samples, 'user_service_profiles_updated_total')).toBe(1);
    expect(valueOf(samples, 'user_service_avatars_uploaded_total')).toBe(0);
  });

  it('reads the outbox backlog and total storage from the database at scrape time', async () => {
    const [outbox] = await sql<{ pending: string }>('SELECT count(*) AS pending FROM outbox WHERE published_at IS NULL');
    const [storage] = await sql<{ bytes: string }>('SELECT sum(storage_used)::text AS bytes FROM users WHERE deleted_at IS NULL');
    expect(valueOf(samples, 'user_service_outbox_pending_events')).toBe(Number(outbox.pending));
    expect(valueOf(samples, 'user_service_outbox_pending_events')).toBeGreaterThanOrEqual(2);
    expect(valueOf(samples, 'user_service_outbox_oldest_pending_age_seconds')).toBeGreaterThan(0);
    expect(valueOf(samples, 'user_service_storage_used_bytes')).toBe(Number(storage.bytes));
    expect(Number(storage.bytes)).toBeGreaterThanOrEqual(4096);

    // Published rows leave the backlog at the next scrape.
    await sql('UPDATE outbox SET published_at = now() WHERE published_at IS NULL');
    const after = parseSamples(await (await fetch(`${api.url}/metrics`)).text());
    expect(valueOf(after, 'user_service_outbox_pending_events')).toBe(0);
    expect(valueOf(after, 'user_service_outbox_oldest_pending_age_seconds')).toBe(0);
  });

  it('counts users by status in the database at scrape time', async () => {
    const rows = await sql<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM users GROUP BY status');
    const counts = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    for (const status of ['active', 'suspended', 'deleted', 'erased']) {
      expect({ status, n: valueOf(samples, 'user_service_users_by_status', { status }) }).toEqual({ status, n: counts[status] ?? 0 });
    }
    expect(valueOf(samples, 'user_service_users_by_status', { status: 'active' })).toBeGreaterThanOrEqual(1);
  });

  it('the Grafana dashboard queries only metrics the service exposes', () => {
    const dashboard = JSON.parse(readFileSync(resolve(__dirname, '..', 'ops', 'grafana', 'user-service.json'), 'utf8'));
    const panels = dashboard.panels.filter((p: any) => p.type !== 'row');
    expect(new Set(dashboard.panels.map((p: any) => p.id)).size).toBe(dashboard.panels.length);
    const exposed = families(exposition);
    const used = new Set<string>();
    for (const panel of panels) {
      expect({ panel: panel.title, targets: panel.targets.length }).toEqual({ panel: panel.title, targets: expect.any(Number) });
      for (const { expr } of panel.targets) {
        for (const [name] of expr.matchAll(/\b(user_service|process|nodejs)_\w+/g)) {
          const family = exposed.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
          expect({ expr, name, exposed: exposed.has(family) }).toEqual({ expr, name, exposed: true });
          used.add(family);
        }
      }
    }
    if (hasPromtool) {
      // Grafana's variables as Prometheus would see them once substituted.
      const expressions = panels.flatMap((p: any) =>
        p.targets.map((t: any) => t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.*')),
      );
      expect(promqlProblems(expressions)).toEqual([]);
      expect(promqlProblems(['sum(rate(x[5m])'])).not.toEqual([]);
    }
    // Every metric of the service has a panel.
    expect([...exposed.keys()].filter((name) => name.startsWith('user_service_') && !used.has(name))).toEqual([]);
  });

  it('records what other parts of the service report through the Metrics API', async () => {
    const metrics = api.app.get(Metrics);
    metrics.eventPublished('user.created');
    metrics.eventConsumed('interview.created');
    metrics.duplicateSkipped('interview.created');
    metrics.eventDeadLettered('media.uploaded');
    metrics.setConsumerLag('interview-events', 0, 7);
    metrics.avatarUploaded();
    metrics.userErased();
    metrics.purgeRan(false);
    metrics.purgeRan(true);
    const text = await (await fetch(`${api.url}/metrics`)).text();
    const after = parseSamples(text);
    expect(valueOf(after, 'user_service_kafka_events_published_total', { event_type: 'user.created' })).toBe(1);
    expect(valueOf(after, 'user_service_kafka_events_consumed_total', { event_type: 'interview.created' })).toBe(1);
    expect(valueOf(after, 'user_service_kafka_events_duplicates_skipped_total', { event_type: 'interview.created' })).toBe(1);
    expect(valueOf(after, 'user_service_kafka_events_dead_lettered_total', { event_type: 'media.uploaded' })).toBe(1);
    expect(valueOf(after, 'user_service_kafka_consumer_lag', { topic: 'interview-events', partition: '0' })).toBe(7);
    expect(valueOf(after, 'user_service_avatars_uploaded_total')).toBe(1);
    expect(valueOf(after, 'user_service_users_erased_total')).toBe(1);
    expect(valueOf(after, 'user_service_purge_runs_total')).toBe(2);
    expect(valueOf(after, 'user_service_purge_failures_total')).toBe(1);
    if (hasPromtool) expect(promtoolCheck(text)!.problems).toEqual([]);
  });
});

describe('GET /metrics with METRICS_ENABLED=false', () => {
  let api: RunningApp;
  beforeAll(async () => {
    api = await startApp(testConfig({ METRICS_ENABLED: 'false' }));
  });
  afterAll(() => api.close());

  it('times neither requests nor database calls, and still counts', async () => {
    const { id, token } = await createUser(api.url);
    expect((await call(api.url, 'GET', `/api/v1/users/${id}`, { token })).status).toBe(200);

    const samples = parseSamples(await (await fetch(`${api.url}/metrics`)).text());
    const seriesOf = (name: string) => samples.filter((sample) => sample.name === name);
    expect(seriesOf('user_service_http_request_duration_seconds_count')).toEqual([]);
    expect(seriesOf('user_service_database_query_duration_seconds_count')).toEqual([]);
    expect(valueOf(samples, 'user_service_users_total')).toBe(1);
  });
});
