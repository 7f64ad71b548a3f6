import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// prom-client's default gauges keep their historical names; Node dashboards expect them as they are.
const KNOWN_DEFAULTS = /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

/**
 * Runs `promtool check metrics` (Debian's prometheus package; .ci/run installs it) and returns its
 * complaints, parse errors included; null when promtool is not installed.
 */
export function promtoolCheck(exposition: string): { status: number | null; problems: string[] } | null {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') return null;
  const lines = `${result.stdout}${result.stderr}`.split('\n').filter(Boolean);
  // Exit status 3: lint findings only; anything else but 0 is a failure (1: unparsable).
  const problems = result.status === 3 ? lines.filter((line) => !KNOWN_DEFAULTS.test(line)) : lines;
  return {
    status: result.status,
    problems: result.status === 0 || result.status === 3 ? problems : [`exit ${result.status}`, ...problems],
  };
}

/** PromQL syntax errors in `expressions`, found by `promtool check rules` (null without promtool). */
export function promqlProblems(expressions: string[]): string[] | null {
  const dir = mkdtempSync(join(tmpdir(), 'promql-'));
  try {
    const rules = expressions.map((expr, i) => `      - record: check:expression_${i}\n        expr: ${JSON.stringify(expr)}`);
    const file = join(dir, 'rules.yml');
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
    const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return result.status === 0 ? [] : `${result.stdout}${result.stderr}`.split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const hasPromtool = promtoolCheck('') !== null;

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of the text exposition format (enough for our own output: no escaped quotes in label values). */
export function parseSamples(exposition: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name whose labels include `labels`; undefined if none. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Metric family names declared with # TYPE. */
export function families(exposition: string): Map<string, string> {
  return new Map([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}
