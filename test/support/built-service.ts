import { ChildProcess, execFile, spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TEST_SECRET } from './app';
import { TEST_DATABASE_URL } from './database';

const ROOT = join(__dirname, '../..');

/**
 * Compiles the service into dist/ (what `npm start` and the Docker image run), unless dist/ is newer than
 * every source file (tsc takes ~10 s on these machines; several test files need the build).
 */
export async function buildService(): Promise<void> {
  const newest = async (dir: string): Promise<number> => {
    const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
    const times = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => (await stat(join(e.parentPath, e.name))).mtimeMs));
    return Math.max(0, ...times);
  };
  const built = await stat(join(ROOT, 'dist/src/main.js')).then((s) => s.mtimeMs, () => -1);
  const sources = Math.max(await newest('src'), await newest('migrations'), (await stat(join(ROOT, 'tsconfig.build.json'))).mtimeMs);
  if (built > sources) return;
  await promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT });
}

export interface Service {
  child: ChildProcess;
  url: string;
  logs: string[];
  exited: Promise<number | null>;
}

/** The built service (`node dist/src/main.js`) as production runs it. */
export async function startService(env: Record<string, string> = {}): Promise<Service> {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_MIGRATIONS_RUN: 'false',
      AUTH_JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = await new Promise<string>((done, fail) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        logs.push(line);
        const match = /listening on (http:\/\/[\d.:]+)/.exec(line);
        if (match) done(match[1]);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then((code) => fail(new Error(`the service exited with ${code}:\n${logs.join('\n')}`)));
  });
  return { child, url, logs, exited };
}

