#!/usr/bin/env node
// Avatar upload benchmark against the built service (npm run bench:avatars).
//
// Starts dist/src/main.js with the embedded database and the local avatar store in a temp DATA_DIR (or
// DATABASE_URL if given), then measures in one run, on the same 4 MB JPEGs:
//   1. sharp alone, the same work as the service's pipeline (header, cover-crop decode, 4 encodes): ms per avatar,
//      one at a time and two at a time (the service's processing concurrency);
//   2. the service, one upload at a time: ms per upload end to end (HTTP, multipart, sharp, store, DB);
//   3. the service, 20 concurrent uploads, ROUNDS rounds: uploads/s, latency, and the peak growth of the service
//      process's resident memory (VmRSS from /proc/<pid>/status, sampled every 10 ms) over its level just before.
// The embedded database (PGlite, WebAssembly in the same process) makes the service's RSS swing by hundreds of MB
// on its own: for the memory figure, run with DATABASE_URL.
// Absolute numbers move with the machine; compare within one run.
'use strict';
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const sharp = require('sharp');
const { SignJWT } = require('jose');

const CONCURRENCY = Number(process.env.CONCURRENCY ?? 20);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const TARGET_BYTES = 4 * 1024 * 1024;
const SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789';
const SIZES = [64, 128, 256, 512];

sharp.cache(false);

async function fourMegabyteJpegs(count) {
  // A 12 MP "photo": gaussian noise sized so that the JPEG lands near 4 MB, like a phone picture.
  const make = (sigma, seed) =>
    sharp({
      create: {
        width: 4000,
        height: 3000,
        channels: 3,
        background: { r: 90 + seed, g: 120, b: 150 },
        noise: { type: 'gaussian', mean: 120 + seed, sigma },
      },
    })
      .jpeg({ quality: 80 })
      .toBuffer();
  let low = 1;
  let high = 60;
  for (let i = 0; i < 8; i++) {
    const mid = (low + high) / 2;
    if ((await make(mid, 0)).length < TARGET_BYTES) low = mid;
    else high = mid;
  }
  const images = [];
  for (let i = 0; i < count; i++) images.push(await make(low, i));
  return images;
}

/** What processAvatar does, with sharp alone. */
async function sharpAlone(input) {
  const meta = await sharp(input).metadata();
  const side = Math.min(meta.width, meta.height, 512);
  const { data, info } = await sharp(input, { autoOrient: true })
    .resize(side, side, { fit: 'cover' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  await Promise.all(
    SIZES.map((size) =>
      sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
        .resize(Math.min(size, side), Math.min(size, side), { fit: 'fill' })
        .jpeg({ quality: 82, mozjpeg: true })
        .toBuffer(),
    ),
  );
}

async function pool(items, concurrency, fn) {
  const results = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }),
  );
  return results;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

const vmRssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const ms = (n) => `${n.toFixed(0)} ms`;
const mb = (kb) => `${(kb / 1024).toFixed(1)} MB`;
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-avatars-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = spawn(process.execPath, ['dist/src/main.js'], {
    env: {
      PATH: process.env.PATH,
      ...(process.env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX } : {}),
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      AUTH_JWT_SECRET: SECRET,
      RATE_LIMIT_PER_MINUTE: '0', // one token sends every upload
      LOG_LEVEL: 'warn',
      // Production runs the embedded database only when asked for.
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : { DATABASE_EMBEDDED: 'true' }),
    },
    stdio: ['ignore', 'ignore', 'inherit'], // Nest's start-up log is noise here; errors go to stderr
  });
  const stop = () => service.exitCode === null && service.kill('SIGTERM');
  process.on('exit', stop);
  try {
    console.log(`making ${CONCURRENCY} JPEGs of ~4 MB (12 MP) ...`);
    const images = await fourMegabyteJpegs(CONCURRENCY);
    const meanSize = images.reduce((n, b) => n + b.length, 0) / images.length;
    console.log(`  mean ${(meanSize / 1024 / 1024).toFixed(2)} MB`);

    for (let i = 0; ; i++) {
      if (service.exitCode !== null) throw new Error('the service exited');
      const ok = await fetch(`${url}/health/live`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 600) throw new Error('the service did not start within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }

    const users = [];
    for (let i = 0; i < CONCURRENCY; i++) {
      const keycloakId = `bench-${Date.now()}-${i}`;
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(keycloakId)
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(SECRET));
      const res = await fetch(`${url}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ keycloakId, email: `${keycloakId}@example.com`, profile: { fullName: 'Bench User' } }),
      });
      if (res.status !== 201) throw new Error(`create user: ${res.status} ${await res.text()}`);
      users.push({ id: (await res.json()).id, token });
    }
    const upload = async (user, image) => {
      const form = new FormData();
      form.append('file', new Blob([image], { type: 'image/jpeg' }), 'photo.jpg');
      const started = performance.now();
      const res = await fetch(`${url}/api/v1/users/${user.id}/avatar`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}` },
        body: form,
      });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`upload: ${res.status} ${body}`);
      return performance.now() - started;
    };

    // warm-up: JIT, sharp, pools; then the idle level of the service's memory
    await upload(users[0], images[0]);
    await sharpAlone(images[0]);

    const t0 = performance.now();
    for (const image of images) await sharpAlone(image);
    const sharpSerial = (performance.now() - t0) / images.length;
    const t1 = performance.now();
    await pool(images, 2, sharpAlone);
    const sharpPairs = images.length / ((performance.now() - t1) / 1000);

    const serial = [];
    for (let i = 0; i < images.length; i++) serial.push(await upload(users[i], images[(i + 1) % images.length]));

    // the level the concurrent phase starts from (after a warm-up upload and the serial ones)
    await new Promise((r) => setTimeout(r, 500));
    const idleKb = vmRssKb(service.pid);
    let peakKb = idleKb;
    const sampler = setInterval(() => {
      try {
        peakKb = Math.max(peakKb, vmRssKb(service.pid));
      } catch {
        // exited
      }
    }, 10);
    const latencies = [];
    const t2 = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      // each round gives every user a picture it does not have yet, so every upload replaces an avatar
      latencies.push(...(await Promise.all(users.map((user, i) => upload(user, images[(i + round + 2) % images.length])))));
    }
    const elapsed = (performance.now() - t2) / 1000;
    clearInterval(sampler);

    console.log('');
    console.log(`sharp alone, same pipeline, one at a time   ${ms(sharpSerial)} per avatar`);
    console.log(`sharp alone, two at a time                  ${sharpPairs.toFixed(1)} avatars/s`);
    console.log(
      `service, one upload at a time               ${ms(serial.reduce((a, b) => a + b, 0) / serial.length)} per upload (median ${ms(percentile(serial, 50))})`,
    );
    console.log(
      `service, ${CONCURRENCY} concurrent x ${ROUNDS} rounds          ${(latencies.length / elapsed).toFixed(1)} uploads/s, latency p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}`,
    );
    console.log(
      `service RSS                                 idle ${mb(idleKb)}, peak ${mb(peakKb)}, growth ${mb(peakKb - idleKb)} (target <= 150 MB)`,
    );
    console.log(`database: ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded (PGlite)'}, store: local (DATA_DIR)`);
  } finally {
    stop();
    await new Promise((r) => (service.exitCode !== null ? r() : service.once('exit', r)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
