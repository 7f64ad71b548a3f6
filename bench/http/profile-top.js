'use strict';
// Aggregates a V8 .cpuprofile (node --cpu-prof) by self time: top functions and a per-package split.
//
//   node bench/http/profile-top.js <file.cpuprofile> [--top 25] [--inclusive 40 [--inclusive-pkg REGEX]]
//                                  [--from-us T0 --to-us T1] [--requests N]
//
// --inclusive N also lists the N functions with the most inclusive time, optionally only those whose package
// (as printed, e.g. "service (dist/src)", "typeorm", "@nestjs/core") matches REGEX.
//
// --from-us/--to-us keep only samples inside a CLOCK_MONOTONIC window in microseconds (run.js passes the
// measured round's window, so start-up and warm-up are left out). --requests N adds CPU time per request.

const fs = require('node:fs');
const path = require('node:path');

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** 'typeorm', '@nestjs/core', 'service (dist/src)', 'node core', '(native)', ... */
function packageOf(url, functionName) {
  if (SPECIAL.has(functionName)) return functionName;
  if (!url) return '(native / V8 builtins)';
  if (url.startsWith('node:')) return 'node core';
  const file = url.replace(/^file:\/\//, '');
  const at = file.lastIndexOf('node_modules/');
  if (at >= 0) {
    const parts = file.slice(at + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (file.includes('/dist/src/')) return 'service (dist/src)';
  if (file.includes('/dist/migrations/')) return 'service (migrations)';
  if (file.includes('/bench/')) return 'bench';
  return path.basename(file);
}

function shortLocation(url, line) {
  if (!url) return '';
  let file = url.replace(/^file:\/\//, '');
  const at = file.lastIndexOf('node_modules/');
  if (at >= 0) file = file.slice(at + 'node_modules/'.length);
  else file = file.replace(/^.*\/(dist\/|bench\/)/, '$1');
  return `${file}:${line + 1}`;
}

/**
 * @param {string} file
 * @param {{ top?: number, fromUs?: number, toUs?: number, requests?: number }} options
 */
function summarize(file, options = {}) {
  const top = options.top ?? 25;
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const { samples, timeDeltas } = profile;

  // Sample i starts at t[i] and lasts until t[i + 1] (DevTools convention).
  const times = new Array(samples.length);
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i];
    times[i] = t;
  }
  const from = options.fromUs ?? -Infinity;
  const to = options.toUs ?? Infinity;
  const windowed = Number.isFinite(from) && (from > profile.endTime || to < profile.startTime) ? null : true;
  const useFrom = windowed ? from : -Infinity;
  const useTo = windowed ? to : Infinity;

  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stackPackages = new Map(); // node id -> packages on its stack (inclusive view)
  const packagesOnStack = (id) => {
    let set = stackPackages.get(id);
    if (set) return set;
    const node = nodes.get(id);
    const up = parent.has(id) ? packagesOnStack(parent.get(id)) : new Set();
    const { url, functionName } = node.callFrame;
    const pkg = url && !url.startsWith('node:') ? packageOf(url, functionName) : null;
    set = pkg && !up.has(pkg) ? new Set([...up, pkg]) : up;
    stackPackages.set(id, set);
    return set;
  };

  const stackFunctions = new Map(); // node id -> function keys on its stack (each once)
  const functionsOnStack = (id) => {
    let set = stackFunctions.get(id);
    if (set) return set;
    const node = nodes.get(id);
    const up = parent.has(id) ? functionsOnStack(parent.get(id)) : new Set();
    const { url, functionName, lineNumber } = node.callFrame;
    const key = url && !url.startsWith('node:') ? `${functionName || '(anonymous)'}\u0000${url}\u0000${lineNumber}` : null;
    set = key && !up.has(key) ? new Set([...up, key]) : up;
    stackFunctions.set(id, set);
    return set;
  };
  const inclusiveByFunction = new Map();

  const byFunction = new Map();
  const byPackage = new Map();
  const inclusive = new Map();
  let total = 0;
  let idle = 0;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < samples.length; i++) {
    if (times[i] < useFrom || times[i] > useTo) continue;
    const duration = (i + 1 < samples.length ? times[i + 1] : profile.endTime) - times[i];
    if (duration <= 0) continue;
    first = Math.min(first, times[i]);
    last = Math.max(last, times[i] + duration);
    const node = nodes.get(samples[i]);
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    total += duration;
    if (name === '(idle)') {
      idle += duration;
      continue;
    }
    const pkg = packageOf(url, name);
    const key = `${name}\u0000${url}\u0000${lineNumber}`;
    const entry = byFunction.get(key) ?? { name, location: shortLocation(url, lineNumber), pkg, us: 0 };
    entry.us += duration;
    byFunction.set(key, entry);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + duration);
    for (const p of packagesOnStack(samples[i])) inclusive.set(p, (inclusive.get(p) ?? 0) + duration);
    if (options.inclusive) {
      for (const k of functionsOnStack(samples[i])) inclusiveByFunction.set(k, (inclusiveByFunction.get(k) ?? 0) + duration);
    }
  }

  const busy = total - idle;
  const pct = (us) => (busy > 0 ? ((100 * us) / busy).toFixed(1).padStart(5) : '  n/a');
  const ms = (us) => (us / 1000).toFixed(0).padStart(6);
  const lines = [];
  lines.push(
    `${path.basename(file)}: ${windowed && Number.isFinite(from) ? 'measured window' : 'whole profile'} ` +
      `${((last - first) / 1e6).toFixed(1)} s; busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s` +
      (options.requests ? `; ${options.requests} requests -> ${(busy / options.requests).toFixed(0)} µs busy CPU per request` : ''),
  );
  if (options.fromUs !== undefined && !windowed) lines.push('  (window did not overlap the profile clock: whole profile used)');
  if (windowed && Number.isFinite(to) && profile.endTime < to - 500_000) {
    lines.push(`  WARNING: the profile ends ${((to - profile.endTime) / 1e6).toFixed(1)} s before the window does (process exited early?)`);
  }
  lines.push('  (profile time is wall time on the JS thread: a syscall such as writev also counts the time the thread waited for a CPU)');
  lines.push('  self time by package (% of busy):');
  for (const [pkg, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 14)) {
    lines.push(`    ${pct(us)}%  ${ms(us)} ms  ${pkg}`);
  }
  lines.push('  inclusive by package (% of busy time with that package on the stack, callees included; node core left out):');
  lines.push(
    `    ${[...inclusive]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([p, us]) => `${p} ${pct(us).trim()}%`)
      .join(', ')}`,
  );
  lines.push(`  top ${top} functions by self time (% of busy):`);
  for (const entry of [...byFunction.values()].sort((a, b) => b.us - a.us).slice(0, top)) {
    lines.push(`    ${pct(entry.us)}%  ${ms(entry.us)} ms  ${entry.name.padEnd(34)} ${entry.pkg.padEnd(22)} ${entry.location}`);
  }
  if (options.inclusive) {
    lines.push(
      `  top ${options.inclusive} functions${options.inclusivePackages ? ` of /${options.inclusivePackages}/` : ''} ` +
        'by inclusive time (callees included; node core left out):',
    );
    const filter = options.inclusivePackages ? new RegExp(options.inclusivePackages) : null;
    const sorted = [...inclusiveByFunction]
      .filter(([key]) => {
        if (!filter) return true;
        const [name, url] = key.split('\u0000');
        return filter.test(packageOf(url, name));
      })
      .sort((a, b) => b[1] - a[1])
      .slice(0, options.inclusive);
    for (const [key, us] of sorted) {
      const [name, url, line] = key.split('\u0000');
      lines.push(
        `    ${pct(us)}%  ${ms(us)} ms  ${name.padEnd(34)} ${packageOf(url, name).padEnd(22)} ${shortLocation(url, Number(line))}`,
      );
    }
  }
  return { text: lines.join('\n'), busyUs: busy, idleUs: idle, byPackage };
}

module.exports = { summarize };

if (require.main === module) {
  const args = process.argv.slice(2);
  const file = args.find((a, i) => a.endsWith('.cpuprofile') && !(i > 0 && args[i - 1].startsWith('--')));
  const str = (name) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const opt = (name) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  if (!file) {
    console.error(
      'usage: node bench/http/profile-top.js <file.cpuprofile> [--top 25] [--inclusive 40 [--inclusive-pkg REGEX]] [--from-us T0 --to-us T1] [--requests N]',
    );
    process.exit(2);
  }
  console.log(
    summarize(file, {
      top: opt('top'),
      inclusive: opt('inclusive'),
      inclusivePackages: str('inclusive-pkg'),
      fromUs: opt('from-us'),
      toUs: opt('to-us'),
      requests: opt('requests'),
    }).text,
  );
}
