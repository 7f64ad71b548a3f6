// A migration from the difference between the entities and the database (DATABASE_URL, or the embedded one):
//   npm run migration:generate -- <Name> [--dryrun | --check]
// writes migrations/<timestamp>-<Name>.ts (a <Name> with a slash is a path of its own), formatted by Prettier.
// It runs on the build (`npm run build` first), as migration:run does.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const [name, ...options] = process.argv.slice(2);
if (!name || name.startsWith('-')) {
  console.error('usage: npm run migration:generate -- <Name> [--dryrun | --check]');
  process.exit(2);
}
const path = name.includes('/') ? name : join('migrations', name);
const timestamp = Date.now();
const run = (file: string, args: string[]) => spawnSync(process.execPath, [file, ...args], { stdio: 'inherit' }).status ?? 1;

const status = run(require.resolve('typeorm/cli'), [
  'migration:generate',
  path,
  '--dataSource',
  'dist/src/config/data-source.js',
  '--timestamp',
  String(timestamp),
  ...options,
]);
const file = join(dirname(path), `${timestamp}-${basename(path)}.ts`);
if (status === 0 && existsSync(file)) {
  run(require.resolve('prettier/bin/prettier.cjs'), ['--write', '--log-level', 'warn', file]);
  console.log(`Add its class to MIGRATIONS in src/config/database.ts: the list is explicit, not a glob.`);
}
process.exit(status);
