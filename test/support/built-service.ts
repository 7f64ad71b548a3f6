import { ChildProcess, execFile, spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TEST_SECRET } from './app';
import { TEST_DATABASE_URL } from './database';

const ROOT = join(__dirname, '../..');

async function newest(dir: string): Promise<number> {
  const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
  const times = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => (await stat(join(e.parentPath, e.name))).mtimeMs));
  return Math.max(0, ...times);
}

async function builtAt(file: string): Promise<number> {
  return stat(join(ROOT, file)).then(
    (s) => s.mtimeMs,
    () => -1,
  );
}

const tsc = (project: string) =>
  promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project], { cwd: ROOT });

/**
 * Compiles the contracts package into packages/contracts/dist (what the built service and other services load),
 * unless it is newer than every one of its sources.
 */
export async function buildContracts(): Promise<void> {
  const sources = Math.max(await newest('packages/contracts/src'), await builtAt('packages/contracts/tsconfig.build.json'));
  if ((await builtAt('packages/contracts/dist/index.js')) > sources) return;
  await tsc('packages/contracts/tsconfig.build.json');
}

/**
 * Compiles the service into dist/ (what `npm start` and the Docker image run), unless dist/ is newer than
 * every source file (tsc takes ~10 s on these machines; several test files need the build). The contracts
 * package first: the service imports it.
 */
export async function buildService(): Promise<void> {
  await buildContracts();
  const sources = Math.max(
    await newest('src'),
    await newest('migrations'),
    await newest('scripts'),
    await newest('packages/contracts/src'),
    await builtAt('tsconfig.build.json'),
  );
  if ((await builtAt('dist/src/main.js')) > sources) return;
  await tsc('tsconfig.build.json');
}

export interface Service {
  child: ChildProcess;
  url: string;
  logs: string[];
  exited: Promise<number | null>;
  /** SIGKILL to the service, and to the whole process group of a command that started it. */
  killAll(): void;
}

/**
 * The built service (`node dist/src/main.js`) as production runs it, or a command that starts it (`npm run dev`)
 * in a process group of its own, so that `killAll` reaches the service under npm too.
 */
export async function startService(env: Record<string, string> = {}, command?: string[], startupMs = 60_000): Promise<Service> {
  const [file, ...args] = command ?? [process.execPath, 'dist/src/main.js'];
  const child = spawn(file, args, {
    cwd: ROOT,
    detached: command !== undefined,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_MIGRATIONS_RUN: 'false',
      AUTH_JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: 'info',
      // Production's 5 s of not-ready before closing only slows tests down; the tests of the drain set it.
      SHUTDOWN_DRAIN_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const killAll = () => {
    if (!command) return void child.kill('SIGKILL');
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group has exited
    }
  };
  const url = await new Promise<string>((done, fail) => {
    // `node --watch` outlives a crashed start, waiting for a change: give up on it rather than hang.
    const deadline = setTimeout(() => {
      killAll();
      fail(new Error(`the service did not start within ${startupMs} ms:\n${logs.join('\n')}`));
    }, startupMs);
    void exited.then(() => clearTimeout(deadline));
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        logs.push(line);
        const match = /listening on (http:\/\/[\d.:]+)/.exec(line);
        if (match) {
          clearTimeout(deadline);
          done(match[1]);
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then((code) => fail(new Error(`the service exited with ${code}:\n${logs.join('\n')}`)));
  });
  return { child, url, logs, exited, killAll };
}
