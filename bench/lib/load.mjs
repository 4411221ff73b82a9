// Drives load from a separate process and summarises repeated runs.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'load-worker.mjs');

export const settings = { runs: 3, durationSec: 10, connections: 50, smoke: false };

export function configure(options) {
  Object.assign(settings, options);
}

/** One autocannon run in a child process; resolves to its summary. */
export function loadOnce(job) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    // Bounded: the run's own duration plus a margin, whatever happens.
    const timer = setTimeout(() => child.kill('SIGKILL'), (job.durationSec + 30) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`load worker failed (${code}): ${err.trim()}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

/**
 * Runs `job` settings.runs times and reports the median throughput and latencies. Any
 * non-2xx answer or socket error fails the measurement: a fast error is not a result.
 */
export async function measure(label, job) {
  const runs = [];
  for (let i = 0; i < settings.runs; i++) {
    const result = await loadOnce({ connections: settings.connections, durationSec: settings.durationSec, run: i, ...job });
    assertClean(label, job, result);
    runs.push(result);
    process.stderr.write(
      `  ${label} run ${i + 1}/${settings.runs}: ${Math.round(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms\n`,
    );
  }
  return {
    label,
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    runs: runs.map((r) => Math.round(r.rps)),
  };
}

/** Any socket error or unexpected status fails the measurement: a fast error is not a result. */
export function assertClean(label, job, result) {
  const expected = job.expectStatus ?? 200;
  const wrong = Object.entries(result.statusCodes ?? {}).filter(([code]) => Number(code) !== expected);
  if (result.errors > 0 || wrong.length > 0 || result.total === 0) {
    throw new Error(
      `${label}: ${result.errors} errors, unexpected statuses ${JSON.stringify(Object.fromEntries(wrong))} in ${result.total} requests`,
    );
  }
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const ratio = (a, b) => (b.rps > 0 ? a.rps / b.rps : 0);
