import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildService, Service, startService } from './support/built-service';
import { sql, TEST_DATABASE_URL } from './support/database';
import { freePort } from './support/free-port';
import { waitFor } from './support/wait';

const ROOT = join(__dirname, '..');

/** `npm run <script> -- <args>` in the project; its exit code and everything it printed. */
async function npmRun(script: string, args: string[] = [], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)('npm', ['run', '-s', script, '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, output: stdout + stderr };
  }
}

async function specFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.spec.ts') && !e.parentPath.includes('node_modules'))
    .map((e) => join(e.parentPath, e.name));
}

describe("the spec's npm scripts", () => {
  const started: Service[] = [];
  afterEach(() => {
    for (const service of started.splice(0)) service.killAll();
  });

  it('test:e2e selects exactly the integration and end-to-end tests in test/, test:unit exactly the unit tests in src/ and packages/', async () => {
    const listed = async (script: string) =>
      (await npmRun(script, ['--listTests'])).output
        .split('\n')
        .filter((line) => line.endsWith('.spec.ts'))
        .sort();
    expect(await listed('test:e2e')).toEqual((await specFiles('test')).sort());
    expect(await listed('test:unit')).toEqual([...(await specFiles('src')), ...(await specFiles('packages'))].sort());
  }, 60_000);

  it('start:prod runs the build, and a SIGTERM to npm reaches it: it shuts down cleanly', async () => {
    await buildService();
    const service = await startService({}, ['npm', 'run', '-s', 'start:prod']);
    started.push(service);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
    service.child.kill('SIGTERM'); // as a supervisor stops the process it started
    expect(await service.exited).toBe(0);
    expect(service.logs.join('\n')).toContain('Shut down cleanly');
  }, 120_000);

  it('dev serves the sources and restarts when one of them changes', async () => {
    const port = await freePort();
    const service = await startService({ NODE_ENV: 'development', PORT: String(port) }, ['npm', 'run', '-s', 'dev'], 90_000);
    started.push(service);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);

    const file = join(ROOT, 'src/app.ts');
    const { atime, mtime } = await stat(file);
    await utimes(file, atime, new Date()); // what saving it does, without changing it
    try {
      await waitFor(() => service.logs.filter((line) => line.includes('listening on')).length === 2, 90_000, 'the restart');
    } finally {
      await utimes(file, atime, mtime); // the build in dist/ stays newer than the sources
    }
    expect(service.logs.join('\n')).toMatch(/Restarting 'src\/main.ts'/);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
  }, 200_000);

  describe('migration:generate', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'migration-generate-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
      await sql('DROP SCHEMA IF EXISTS migration_generate_empty CASCADE');
    });

    it('finds no difference between the entities and a database the migrations built', async () => {
      // A bare name writes into migrations/; a path (here a temporary directory) is used as it is.
      const { code, output } = await npmRun('migration:generate', [join(dir, 'Nothing')]);
      expect(output).toContain('No changes in database schema were found');
      expect(code).toBe(1); // TypeORM's answer when there is nothing to generate
      expect(await readdir(dir)).toEqual([]);
    }, 120_000);

    it('writes <timestamp>-<Name>.ts with what an empty database lacks', async () => {
      // An empty schema of the test database (created by migration:generate, as it is missing).
      const { code, output } = await npmRun('migration:generate', [join(dir, 'CreateUsersTable')], {
        DATABASE_SCHEMA: 'migration_generate_empty',
      });
      expect(output).toContain('has been generated successfully');
      expect(code).toBe(0);
      const [file] = await readdir(dir);
      expect(file).toMatch(/^\d{13}-CreateUsersTable\.ts$/);
      const migration = await readFile(join(dir, file), 'utf8');
      expect(migration).toContain(`export class CreateUsersTable${file.slice(0, 13)} implements MigrationInterface`);
      for (const name of ['users', 'outbox']) expect(migration).toContain(`CREATE TABLE "${name}"`);
      for (const name of ['users_email_live_key', 'users_keycloak_id_live_key', 'users_status_check', 'idx_outbox_unpublished']) {
        expect(migration).toContain(`"${name}"`);
      }
    }, 120_000);
  });
});
