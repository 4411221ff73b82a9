// Interleaved measurements: run 1 of every measurement, then run 2 in the reverse order, and so
// on (ABBA…), then the median of each. On a shared machine whose load drifts by tens of percent
// within a minute, sequential blocks of runs compare the drift; alternating runs compare the
// subjects. Baselines that are not HTTP (node's single-core signing rate) take part the same way,
// through `once` instead of `job`.
import { assertClean, loadOnce, median } from './load.mjs';

/**
 * `measurements`: [{ label, job: (run) => job }] (job as for loadOnce, plus expectStatus), or
 * [{ label, once: (run) => Promise<{ rps }> }] for a measurement of its own (p50/p99 absent). Any
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
      let result;
      if (measurements[i].once) {
        result = await measurements[i].once(r);
      } else {
        const job = { connections: settings.connections, durationSec: settings.durationSec, ...overrides, ...measurements[i].job(r) };
        result = await loadOnce(job);
        assertClean(label, job, result);
      }
      results[i].push(result);
      const latency = `${result.p50 === undefined ? '' : `, p50 ${result.p50} ms`}${result.p99 === undefined ? '' : `, p99 ${result.p99} ms`}`;
      process.stderr.write(`  ${label} run ${r + 1}/${settings.runs}: ${Math.round(result.rps)} req/s${latency}\n`);
    }
  }
  const medianOf = (i, key) => (results[i].every((x) => typeof x[key] === 'number') ? median(results[i].map((x) => x[key])) : undefined);
  return measurements.map(({ label }, i) => ({
    label,
    rps: median(results[i].map((x) => x.rps)),
    p50: medianOf(i, 'p50'),
    p99: medianOf(i, 'p99'),
    runs: results[i].map((x) => Math.round(x.rps)),
  }));
}
