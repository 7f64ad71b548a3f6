import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const run = promisify(execFile);

/** Where initdb, pg_ctl and pg_basebackup are: `pg_config --bindir`, else Debian's newest /usr/lib/postgresql/<n>/bin. */
function serverBinaries(): string {
  try {
    return execFileSync('pg_config', ['--bindir']).toString().trim();
  } catch {
    const versions = readdirSync('/usr/lib/postgresql').filter((name) => /^\d+$/.test(name));
    if (versions.length === 0) throw new Error('No PostgreSQL server binaries: pg_config is missing and /usr/lib/postgresql is empty');
    return join('/usr/lib/postgresql', String(Math.max(...versions.map(Number))), 'bin');
  }
}

/** One private PostgreSQL server in a temporary directory, started with the machine's server binaries. */
export class PgServer {
  constructor(
    readonly name: string,
    readonly port: number,
    private readonly cluster: PgCluster,
  ) {}

  get dataDir(): string {
    return join(this.cluster.dir, this.name);
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  start(): Promise<void> {
    return this.cluster.pg('pg_ctl', ['-D', this.dataDir, '-l', `${this.dataDir}.log`, '-w', '-t', '60', 'start']);
  }

  /** Immediate: like a crash, and quick. */
  stop(): Promise<void> {
    return this.cluster.pg('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
  }
}

/**
 * A primary and a streaming replica of it (`pg_basebackup -R`) on free ports, for tests that need real
 * replication; nothing of the machine's own cluster is used or changed. Runs as the `postgres` system
 * user when the tests run as root (initdb refuses root). Costs ~2-4 s to start; destroy() removes it all.
 */
export class PgCluster {
  readonly primary: PgServer;
  readonly replica: PgServer;
  private readonly bin = serverBinaries();
  private readonly asRoot = process.getuid?.() === 0;
  private readonly onExit = () => this.stopNow();

  private constructor(
    readonly dir: string,
    ports: [number, number],
  ) {
    this.primary = new PgServer('primary', ports[0], this);
    this.replica = new PgServer('replica', ports[1], this);
  }

  static async start(): Promise<PgCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'pg-cluster-'));
    const ports: [number, number] = [await freePort(), await freePort()];
    while (ports[1] === ports[0]) ports[1] = await freePort();
    const cluster = new PgCluster(dir, ports);
    if (cluster.asRoot) {
      const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres']).toString()));
      chownSync(dir, uid, gid);
    }
    process.once('exit', cluster.onExit);
    try {
      await cluster.create();
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  async destroy(): Promise<void> {
    process.off('exit', this.onExit);
    for (const server of [this.replica, this.primary]) await server.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs one of the server binaries, as postgres when we are root. */
  async pg(program: string, args: string[]): Promise<void> {
    const [file, argv] = this.asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(this.bin, program), ...args]]
      : [join(this.bin, program), args];
    await run(file, argv, { cwd: this.dir });
  }

  private async create(): Promise<void> {
    const { primary, replica } = this;
    await this.pg('initdb', ['-D', primary.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
    this.configure(primary, ['fsync = off', 'shared_buffers = 16MB', 'max_connections = 50', 'max_wal_senders = 4']);
    await primary.start();
    // -R writes the standby settings (primary_conninfo, standby.signal); -c fast: no wait for a checkpoint.
    await this.pg('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      '-D',
      replica.dataDir,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
      '--no-sync',
    ]);
    this.configure(replica, []);
    await replica.start();
  }

  /** Appended, so that it wins over what initdb wrote or pg_basebackup copied. */
  private configure(server: PgServer, settings: string[]): void {
    const lines = [`port = ${server.port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${this.dir}'`, ...settings];
    appendFileSync(join(server.dataDir, 'postgresql.conf'), `\n${lines.join('\n')}\n`);
  }

  /** At process exit only synchronous work runs: leave no server behind a test run that died. */
  private stopNow(): void {
    for (const server of [this.replica, this.primary]) {
      try {
        const stop = [join(this.bin, 'pg_ctl'), '-D', server.dataDir, '-m', 'immediate', 'stop'];
        if (this.asRoot) execFileSync('runuser', ['-u', 'postgres', '--', ...stop], { stdio: 'ignore' });
        else execFileSync(stop[0], stop.slice(1), { stdio: 'ignore' });
      } catch {
        // not running
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
