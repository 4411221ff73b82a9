// Interleaved measurements: run 1 of every measurement, then run 2 in the reverse order, and so
// on (ABBA…), then the median of each. On a shared machine whose load drifts by tens of percent
// within a minute, sequential blocks of runs compare the drift; alternating runs compare the routes.
import { assertClean, loadOnce, median } from './load.mjs';

/**
 * `measurements`: [{ label, job: (run) => job }] (job as for loadOnce, plus expectStatus). Any
 * error or unexpected status fails the whole call, as in measure(). Returns one summary per
 * measurement, in the given order: { label, rps, p50, p99, runs } (medians over the runs).
 */
export async function interleaved(settings, measurements, overrides = {}) {
  const results = measurements.map(() => []);
  for (let r = 0; r < settings.runs; r++) {
    const order = measurements.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) {
      const { label } = measurements[i];
      const job = { connections: settings.connections, durationSec: settings.durationSec, ...overrides, ...measurements[i].job(r) };
      const result = await loadOnce(job);
      assertClean(label, job, result);
      results[i].push(result);
      process.stderr.write(`  ${label} run ${r + 1}/${settings.runs}: ${Math.round(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms\n`);
    }
  }
  return measurements.map(({ label }, i) => ({
    label,
    rps: median(results[i].map((x) => x.rps)),
    p50: median(results[i].map((x) => x.p50)),
    p99: median(results[i].map((x) => x.p99)),
    runs: results[i].map((x) => Math.round(x.rps)),
  }));
}
