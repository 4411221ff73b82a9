// Tessera benchmarks: `npm run bench` (full: 3 runs × 10 s per measurement) or
// `npm run bench:smoke` (CI: 1 run × 0.5 s, small data sets, proves the scripts work; no
// timing is asserted). Options: --only=jwks,issuance  --runs=N  --duration=S  --connections=N  --parallel=N
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configure, measure, ratio, settings } from './lib/load.mjs';
import { ROOT, startTessera } from './lib/tessera.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const smoke = args.smoke === 'true';
configure({
  smoke,
  runs: Number(args.runs ?? (smoke ? 1 : 3)),
  durationSec: Number(args.duration ?? (smoke ? 0.5 : 10)),
  connections: Number(args.connections ?? (smoke ? 10 : 50)),
});

const ALL = ['guard', 'forward-auth', 'issuance', 'refresh', 'jwks', 'scale'];
const only = args.only ? args.only.split(',') : ALL;
const unknown = only.filter((n) => !ALL.includes(n));
if (unknown.length) {
  console.error(`Unknown scenario(s): ${unknown.join(', ')}. Known: ${ALL.join(', ')}`);
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist', 'main.js'))) {
  console.error('dist/main.js is missing: run `npm run build` first (npm run bench does it for you).');
  process.exit(2);
}

const started = Date.now();
const sections = [];
let failed = false;
async function runScenario(name, index) {
  const scenario = (await import(`./scenarios/${name}.mjs`)).default;
  process.stderr.write(`\n== ${scenario.title} (${name})\n`);
  try {
    const result = await scenario.run({ startTessera, measure, ratio, settings });
    sections[index] = { name, title: scenario.title, ...result };
  } catch (error) {
    failed = true;
    process.stderr.write(`  FAILED (${name}): ${error.stack ?? error}\n`);
    sections[index] = { name, title: scenario.title, error: String(error.message ?? error), rows: [], goals: [] };
  }
}
// Scenarios run one at a time, except in smoke mode (figures meaningless there): two lanes keep
// the whole smoke run under 30 s on a 2-core machine. --parallel=N overrides.
const lanes = Math.max(1, Number(args.parallel ?? (smoke ? 2 : 1)));
// Longest first, so the lanes finish together; the report keeps the order of `only`.
const LONGEST_FIRST = ['scale', 'issuance'];
const queue = only.map((name, index) => ({ name, index })).sort((a, b) => (lanes > 1 ? rank(a.name) - rank(b.name) : 0));
function rank(name) {
  const i = LONGEST_FIRST.indexOf(name);
  return i === -1 ? LONGEST_FIRST.length : i;
}
await Promise.all(
  Array.from({ length: Math.min(lanes, only.length) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await runScenario(next.name, next.index);
  }),
);

const fmt = (n, d = 0) => (typeof n === 'number' ? n.toFixed(d) : '—');
let md = `Run ${new Date().toISOString()} · node ${process.version} · ${settings.runs} run(s) × ${settings.durationSec} s · ${settings.connections} connections${smoke ? ' · SMOKE (figures meaningless)' : ''}\n`;
for (const s of sections) {
  md += `\n### ${s.title}\n\n`;
  if (s.error) md += `**failed**: ${s.error}\n`;
  if (s.rows.length) {
    md += '| measurement | req/s (median) | p50 ms | p99 ms | ratio | runs |\n| --- | --- | --- | --- | --- | --- |\n';
    for (const r of s.rows)
      md += `| ${r.label} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.ratio === undefined ? '' : fmt(r.ratio, 2)} | ${(r.runs ?? []).join(' / ')} |\n`;
  }
  // met: undefined is a figure reported beside the goals (no goal of its own): '·'.
  for (const g of s.goals ?? [])
    md += `- ${g.met === undefined ? '·' : g.met ? '✅' : '❌'} ${g.text}: **${fmt(g.value, 2)}** (goal ${g.goal})\n`;
  for (const n of s.notes ?? []) md += `- ${n}\n`;
}
// Issue 13's ratios in one table: Fastify (where the goals are) and Express beside it.
const headlines = new Map();
for (const g of sections.flatMap((s) => s.goals ?? []).filter((g) => g.headline)) {
  const row = headlines.get(g.headline) ?? { limit: g.limit };
  row[g.adapter] = g.value;
  headlines.set(g.headline, row);
}
if (headlines.size) {
  md += "\n### The guard's ratios (issue 13)\n\n| ratio | Fastify | Express | goal (Fastify) |\n| --- | --- | --- | --- |\n";
  for (const [name, row] of headlines) {
    const met = row.limit === undefined || row.fastify === undefined ? '' : row.fastify >= row.limit ? ' ✅' : ' ❌';
    md += `| ${name} | ${fmt(row.fastify, 2)}${met} | ${fmt(row.express, 2)} | ${row.limit === undefined ? '—' : `≥ ${row.limit}`} |\n`;
  }
}
process.stdout.write(`${md}\n`);
const dir = join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${smoke ? 'smoke' : 'bench'}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ settings, sections }, null, 2));
process.stderr.write(`\nDone in ${Math.round((Date.now() - started) / 1000)} s; results in ${file}\n`);
process.exit(failed ? 1 : 0);
