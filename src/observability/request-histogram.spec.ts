import { Histogram, Registry } from 'prom-client';
import { RequestHistogram } from './request-histogram';

const BUCKETS = [0.005, 0.01, 0.1, 1];
const LABELS = ['method', 'route'];

/** The exposition lines of a registry, with each line's labels put in name order (the order is not significant). */
async function lines(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.replace(/\{([^}]*)\}/, (_, labels: string) => `{${labels.split(',').sort().join(',')}}`))
    .sort();
}

describe('RequestHistogram', () => {
  it('writes the same exposition as prom-client’s Histogram for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new RequestHistogram('req_seconds', 'Requests', LABELS, BUCKETS, ours);
    const reference = new Histogram({ name: 'req_seconds', help: 'Requests', labelNames: LABELS, buckets: BUCKETS, registers: [theirs] });
    const observations: [string, string, number][] = [
      ['GET', '/users/:id', 0.001],
      ['GET', '/users/:id', 0.005], // on a bound: counted in that bucket (le is "less or equal")
      ['GET', '/users/:id', 0.05],
      ['GET', '/users/:id', 7], // above every bound: only in +Inf
      ['POST', '/users', 0.2],
      ['POST', 'unmatched', 0],
    ];
    for (const [method, route, value] of observations) {
      fast.series(method, route).observe(value);
      reference.labels(method, route).observe(value);
    }
    expect(await lines(ours)).toEqual(await lines(theirs));
    expect(await lines(ours)).toContain('req_seconds_bucket{le="0.005",method="GET",route="/users/:id"} 2');
    expect(await lines(ours)).toContain('req_seconds_count{method="GET",route="/users/:id"} 4');
  });

  it('keeps one series per label set, and reset empties it', async () => {
    const registry = new Registry();
    const histogram = new RequestHistogram('req_seconds', 'Requests', LABELS, BUCKETS, registry);
    expect(histogram.series('GET', '/a')).toBe(histogram.series('GET', '/a'));
    expect(histogram.series('GET', '/a')).not.toBe(histogram.series('GET', '/b'));
    histogram.series('GET', '/a').observe(0.02);
    expect(await registry.metrics()).toContain('req_seconds_count{method="GET",route="/a"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('req_seconds_count');
  });
});
