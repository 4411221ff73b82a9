'use strict';
// Preloaded into a Tessera started with `--expose-gc -r bench/lib/gc-on-signal.cjs` by the scale
// scenario: SIGUSR2 runs a full, synchronous garbage collection, so heap figures read from
// GET /metrics afterwards compare steady states (live objects only). Benchmarks only.
if (typeof global.gc === 'function') {
  process.on('SIGUSR2', () => global.gc());
}
