// Real Kafka wire-protocol broker for tests: librdkafka's mock cluster wrapped by
// kafka-mock.c, compiled on first use. Needs gcc and `apt-get install -y librdkafka-dev`.
import { ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

export type KafkaBroker = {
  brokers: string[];
  /** Drop all connections and refuse new ones (no leader change). */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Explicit topic creation; the mock rejects kafkajs admin.createTopics. Auto-created topics get 4 partitions. */
  createTopic(topic: string, partitions: number): Promise<void>;
  stop(): Promise<void>;
};

const SOURCE = path.join(__dirname, 'kafka-mock.c');
const BINARY = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'kafka-mock', 'kafka-mock');
const INSTALL_HINT = 'Kafka test broker needs gcc and librdkafka: apt-get install -y librdkafka-dev';

async function mtime(file: string): Promise<number> {
  return fs.stat(file).then(
    (s) => s.mtimeMs,
    () => -1,
  );
}

async function ensureBinary(): Promise<string> {
  if ((await mtime(BINARY)) >= (await mtime(SOURCE))) return BINARY;
  await fs.mkdir(path.dirname(BINARY), { recursive: true });
  // Unique temp name + rename keeps parallel Jest workers from seeing a half-written binary.
  const tmp = `${BINARY}.${process.pid}.${Date.now()}.tmp`;
  try {
    await promisify(execFile)('gcc', ['-O1', '-o', tmp, SOURCE, '-lrdkafka']);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    const detail = (err as { stderr?: string }).stderr || (err as Error).message;
    throw new Error(`${INSTALL_HINT}\ngcc failed: ${detail}`, { cause: err });
  }
  await fs.rename(tmp, BINARY);
  return BINARY;
}

export async function startKafkaBroker(brokerCount = 1): Promise<KafkaBroker> {
  const bin = await ensureBinary();
  const child: ChildProcessWithoutNullStreams = spawn(bin, [String(brokerCount)]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));

  // Each stdout line answers the oldest pending request (BOOTSTRAP first, then one per command).
  const waiting: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const fail = (e: Error) => waiting.splice(0).forEach((w) => w.reject(e));
  child.once('error', fail);
  child.once('close', (code, signal) => fail(new Error(`kafka-mock exited (${code ?? signal}): ${stderr}`)));
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.resolve(line));
  const nextLine = () => new Promise<string>((resolve, reject) => waiting.push({ resolve, reject }));

  const first = await nextLine();
  if (!first.startsWith('BOOTSTRAP ')) throw new Error(`kafka-mock: unexpected output "${first}"`);
  const brokers = first.slice('BOOTSTRAP '.length).split(',');

  let queue = Promise.resolve();
  const command = (cmd: string): Promise<void> => {
    const run = async () => {
      const reply = nextLine();
      child.stdin.write(cmd + '\n');
      const line = await reply;
      if (line !== 'OK') throw new Error(`kafka-mock "${cmd}": ${line}`);
    };
    const result = queue.then(run);
    queue = result.catch(() => undefined);
    return result;
  };

  return {
    brokers,
    down: () => command('down'),
    up: () => command('up'),
    createTopic: (topic, partitions) => command(`create ${topic} ${partitions}`),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin.end('quit\n');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
