// `npm run contracts`: regenerates packages/contracts/src/generated from openapi.json and asyncapi.yaml
// (`npm run openapi` runs it too). `npm run contracts -- --check` writes nothing and fails when the committed
// files are out of step; test/contracts.e2e.spec.ts runs it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GENERATED_DIR, generateContracts } from './contracts/generate';

const ROOT = resolve(__dirname, '..');

async function main(check: boolean): Promise<void> {
  const files = await generateContracts();
  const current = (path: string) => (existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : undefined);
  const stale = files.filter(({ path, content }) => current(path) !== content).map(({ path }) => path);
  const extra = readdirSync(join(ROOT, GENERATED_DIR))
    .map((name) => `${GENERATED_DIR}/${name}`)
    .filter((path) => !files.some((f) => f.path === path));
  if (check) {
    if (stale.length + extra.length === 0) return;
    console.error(`Out of step with openapi.json and asyncapi.yaml: ${[...stale, ...extra].join(', ')}.`);
    console.error('Run `npm run contracts` and commit the result.');
    process.exit(1);
  }
  for (const { path, content } of files) {
    mkdirSync(dirname(join(ROOT, path)), { recursive: true });
    writeFileSync(join(ROOT, path), content);
  }
  for (const path of extra) rmSync(join(ROOT, path));
  console.log(`${GENERATED_DIR}: ${stale.length + extra.length === 0 ? 'already up to date' : `wrote ${stale.join(', ')}`}`);
}

main(process.argv.includes('--check')).catch((error) => {
  console.error(error);
  process.exit(1);
});
