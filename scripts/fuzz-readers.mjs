#!/usr/bin/env node
// The long fuzz run of the readers (safetensors, IDX, CSV, kiln.load), run once by hand; CI runs
// a bounded number through tests/fuzz/readers.test.ts instead.
//   node scripts/fuzz-readers.mjs [--count N] [--seed S] [--json out.json]
// Each reader's N inputs are generated from the seed (the same inputs every run) in chunks of
// CHUNK (chunk c from seed * 1000003 + c) and read in child processes
// (tests/fuzz/fuzz-child.mjs), so a crash or an abort kills a child, not the run: the child is
// restarted after the input that killed it. Reported per reader: inputs
// tried, read, rejected with a KilnError, oracle failures (bugs), crashes, hangs (no answer in
// HANG_S), slow inputs (over SLOW_MS) and inputs whose peak RSS grew more than the file could
// justify (64 MB + 16 bytes per input byte).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const COUNT = Number(opt('count', 20000));
const SEED = Number(opt('seed', 1));
const JSON_OUT = opt('json', null);
const HANG_S = 30; // per input
const STARTUP_S = 600; // a child's start and the generation of its chunk (slow on a loaded machine)
const SLOW_MS = 1000;
const READERS = (opt('readers', 'safetensors,idx,csv,load')).split(',');
const CHUNK = 5000;

function runChild(reader, chunk, size, from, stats) {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', './tests/io/ts-loader.mjs', 'tests/fuzz/fuzz-child.mjs', reader, String(SEED * 1000003 + chunk), String(size), String(from)], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let current = -1;
    let last = from;
    let lastRss = 0;
    let buf = '';
    let stderr = '';
    let timer;
    let started = false;
    let startupTimeout = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (!started) startupTimeout = true;
        else stats.hangs.push(current >= 0 ? current : `chunk ${chunk}`);
        child.kill('SIGKILL');
      }, (started ? HANG_S : STARTUP_S) * 1000);
    };
    arm();
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [kind, i, a, b, c] = line.split(' ');
        started = true;
        arm();
        if (kind === 'start') {
          current = Number(i);
          stats.bytes = Number(a);
        } else if (kind === 'done') {
          stats.tried++;
          stats[a === 'ok' ? 'read' : 'rejected']++;
          const ms = Number(b);
          const rss = Number(c);
          if (ms > SLOW_MS) stats.slow.push({ input: current, chunk, ms, bytes: stats.bytes });
          if (ms > stats.maxMs) { stats.maxMs = ms; stats.maxMsBytes = stats.bytes; }
          const growth = lastRss ? (rss - lastRss) * 1024 : 0;
          if (current > from + 5 && growth > 64 * 2 ** 20 + 16 * stats.bytes) stats.memory.push({ input: current, chunk, growthMB: growth / 2 ** 20, bytes: stats.bytes });
          lastRss = rss;
          last = current + 1;
          current = -1;
        } else if (kind === 'bug') {
          stats.tried++;
          stats.bugs.push({ input: Number(i), chunk, message: JSON.parse(line.slice(line.indexOf(' ', 4) + 1)) });
          last = Number(i) + 1;
          current = -1;
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (startupTimeout) {
        stats.startupTimeouts++;
        done(from); // the chunk's inputs were never read: run it again
      } else if (current >= 0) {
        // died (or was killed as hung) inside an input
        stats.tried++;
        if (!stats.hangs.includes(current)) stats.crashes.push({ input: current, chunk, code, signal, stderr: stderr.slice(-500) });
        done(current + 1);
      } else if (code !== 0) {
        stats.crashes.push({ input: null, chunk, code, signal, stderr: stderr.slice(-500) });
        done(size);
      } else {
        done(last);
      }
    });
  });
}

const report = { date: new Date().toISOString(), seed: SEED, countPerReader: COUNT, readers: {} };
for (const reader of READERS) {
  const stats = { tried: 0, read: 0, rejected: 0, bugs: [], crashes: [], hangs: [], slow: [], memory: [], startupTimeouts: 0, maxMs: 0, maxMsBytes: 0, bytes: 0 };
  const t0 = Date.now();
  for (let c = 0; c * CHUNK < COUNT; c++) {
    const size = Math.min(CHUNK, COUNT - c * CHUNK);
    let from = 0;
    let tries = 0;
    while (from < size && tries++ < size + 3) from = await runChild(reader, c, size, from, stats);
  }
  delete stats.bytes;
  stats.seconds = (Date.now() - t0) / 1000;
  report.readers[reader] = stats;
  console.log(`${reader.padEnd(12)} tried ${stats.tried}  read ${stats.read}  KilnError ${stats.rejected}  bugs ${stats.bugs.length}  crashes ${stats.crashes.length}  hangs ${stats.hangs.length}  slow ${stats.slow.length}  memory ${stats.memory.length}  startup timeouts ${stats.startupTimeouts}  slowest ${stats.maxMs.toFixed(1)} ms (${stats.maxMsBytes} bytes)  ${stats.seconds.toFixed(0)} s`);
  for (const b of stats.bugs.slice(0, 3)) console.log(`  bug at input ${b.input}: ${b.message.split('\n')[0]}`);
  for (const c of stats.crashes.slice(0, 3)) console.log(`  crash at input ${c.input}: code ${c.code} signal ${c.signal} ${c.stderr.split('\n').slice(-3).join(' | ')}`);
}
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(report, null, 2));
const bad = Object.values(report.readers).some((s) => s.bugs.length || s.crashes.length || s.hangs.length || s.memory.length);
process.exitCode = bad ? 1 : 0;
