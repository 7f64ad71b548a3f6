import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config/config';
import { call, startApp } from './support/app';

const ROOT = join(__dirname, '..');

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: any;
};

/** `kubectl kustomize <dir>`; kustomize's deprecation warnings (stderr) are expected, see the overlay. */
async function render(dir: string): Promise<Manifest[]> {
  const { stdout } = await promisify(execFile)('kubectl', ['kustomize', join(ROOT, dir)]).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new Error(
        'kubectl is not installed: the Kubernetes manifests are rendered with `kubectl kustomize` (Debian: apt-get install kubernetes-client)',
      );
    }
    throw error;
  });
  return parseAllDocuments(stdout).map((doc) => doc.toJS() as Manifest);
}

/**
 * kubernetes-models 5 (Kubernetes 1.36) and the Prometheus Operator's models declare Node >= 22, so they are not among
 * the service's devDependencies (npm ci would warn EBADENGINE on Node 20): deploy/kubernetes/validator pins them in a
 * lockfile of its own, installed here on first use.
 */
const VALIDATOR = join(ROOT, 'deploy/kubernetes/validator');

async function installValidator(): Promise<void> {
  const installed = join(VALIDATOR, 'node_modules/.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(join(VALIDATOR, 'package-lock.json')).mtimeMs) return;
  await promisify(execFile)('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: VALIDATOR });
}

/** The schema of a current Kubernetes release (kubernetes-models) or of the Prometheus Operator's CRDs. */
async function validate(manifest: Manifest): Promise<void> {
  const [group, version] = manifest.apiVersion.includes('/') ? manifest.apiVersion.split('/') : ['', manifest.apiVersion];
  const module =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}/${manifest.kind}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}/${manifest.kind}`;
  // ESM files (the packages export only `import`), loaded by path from the validator's own node_modules.
  const models = await import(join(VALIDATOR, 'node_modules', `${module}.js`));
  new models[manifest.kind](manifest).validate();
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  let objects: Manifest[];
  const one = (kind: string, name = 'user-service') => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name} in the rendered overlay`);
    return found;
  };
  beforeAll(async () => {
    await installValidator();
    objects = await render('deploy/kubernetes/overlays/example');
  }, 120_000);

  it('render, base and example overlay, into objects valid against the schemas of Kubernetes 1.36 and the Prometheus Operator', async () => {
    const base = await render('deploy/kubernetes/base');
    for (const manifest of [...base, ...objects]) {
      await expect(validate(manifest)).resolves.toBeUndefined();
    }
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/user-service-config',
      'Deployment/user-service',
      'HorizontalPodAutoscaler/user-service',
      'Job/user-service-migrate',
      'Namespace/interview-platform',
      'NetworkPolicy/user-service',
      'PodDisruptionBudget/user-service',
      'Secret/user-service-secrets',
      'Service/user-service',
      'ServiceMonitor/user-service',
    ]);
    expect(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'interview-platform')).toBe(true);
  });

  it('would fail a manifest the schemas forbid (the validation is not a no-op)', async () => {
    const deployment = structuredClone(one('Deployment'));
    deployment.spec.replicas = 'three';
    await expect(validate(deployment)).rejects.toThrow('data/spec/replicas must be integer');
  });

  /** What the pods get: the ConfigMap and the Secret template, as environment variables. */
  const environment = () => ({ ...one('ConfigMap', 'user-service-config').data, ...one('Secret', 'user-service-secrets').stringData });

  it('configure the service with variables it reads and accepts, migrations left to the Job', () => {
    const env = environment();
    const read = new Set<string>();
    const config = loadConfig(
      new Proxy(env, {
        get: (target, name: string) => {
          read.add(name);
          return target[name];
        },
      }),
    );
    expect(Object.keys(env).filter((name) => !read.has(name))).toEqual([]);
    expect(config.database).toMatchObject({ schema: 'user_service', runMigrations: false, connection: { port: 5432 } });

    const job = one('Job', 'user-service-migrate').spec.template.spec.containers[0];
    expect(job.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(existsSync(join(ROOT, 'scripts/migrate.ts'))).toBe(true);
    const pod = one('Deployment').spec.template.spec;
    expect(pod.initContainers.map((c: any) => c.command)).toEqual([['node', 'dist/scripts/migrate.js', '--wait']]);
    for (const container of [job, ...pod.containers, ...pod.initContainers]) {
      expect(container.envFrom).toEqual([
        { configMapRef: { name: 'user-service-config' } },
        { secretRef: { name: 'user-service-secrets' } },
      ]);
    }
  });

  it('run 3 non-root replicas on a read-only root file system, with requests and limits', () => {
    const deployment = one('Deployment');
    expect(deployment.spec.replicas).toBe(3);
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    for (const container of [
      ...pod.containers,
      ...pod.initContainers,
      ...one('Job', 'user-service-migrate').spec.template.spec.containers,
    ]) {
      expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(Object.keys(container.resources).sort()).toEqual(['limits', 'requests']);
    }
    const [container] = pod.containers;
    expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: expect.any(Object) }]);
  });

  it('probe (and scrape) endpoints the service answers, on the port it listens on, and give it time to drain and finish on SIGTERM', async () => {
    const pod = one('Deployment').spec.template.spec;
    const [container] = pod.containers;
    const config = loadConfig(environment());
    expect(container.ports).toEqual([{ name: 'http', containerPort: config.port, protocol: 'TCP' }]);
    const probes = [container.startupProbe, container.livenessProbe, container.readinessProbe];
    expect(probes.map((probe) => probe.httpGet.path)).toEqual(['/health/live', '/health/live', '/health/ready']);
    expect(probes.every((probe) => probe.httpGet.port === 'http')).toBe(true);
    const api = await startApp();
    try {
      for (const path of [...probes.map((probe) => probe.httpGet.path), one('ServiceMonitor').spec.endpoints[0].path]) {
        expect((await call(api.url, 'GET', path)).status).toBe(200);
      }
    } finally {
      await api.close();
    }

    // SIGTERM: not ready for SHUTDOWN_DRAIN_MS, then up to SHUTDOWN_TIMEOUT_MS for requests in flight; 5 s to spare.
    expect(config.shutdownDrainMs).toBe(5000);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(config.shutdownDrainMs + config.shutdownTimeoutMs + 5000);
  });

  it('select the same pods from the Service, HPA, PDB, ServiceMonitor and NetworkPolicy, and not the Job', () => {
    const deployment = one('Deployment');
    const podLabels = deployment.spec.template.metadata.labels;
    const jobLabels = one('Job', 'user-service-migrate').spec.template.metadata.labels;
    expect(matches(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
    const service = one('Service');
    expect(matches(service.spec.selector, podLabels)).toBe(true);
    expect(matches(service.spec.selector, jobLabels)).toBe(false);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(matches(one('PodDisruptionBudget').spec.selector.matchLabels, podLabels)).toBe(true);
    expect(one('HorizontalPodAutoscaler').spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'user-service' },
      minReplicas: 3,
    });
    const monitor = one('ServiceMonitor');
    expect(matches(monitor.spec.selector.matchLabels, service.metadata.labels ?? {})).toBe(true);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    const policy = one('NetworkPolicy');
    expect(matches(policy.spec.podSelector.matchLabels, podLabels)).toBe(true);
    expect(policy.spec.ingress.flatMap((rule: any) => rule.ports)).toEqual([{ port: 'http', protocol: 'TCP' }]);
  });
});
