import cluster, { Worker } from 'node:cluster';
import { AppConfig } from './config/app-config';
import { EmbeddedDatabase } from './database/embedded-postgres';
import { runMigrations } from './database/run-migrations';

/** A worker that dies this soon after its start is not restarted (a bad configuration, not a crash). */
const EARLY_EXIT_MS = 10_000;

const line = (message: string) =>
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), context: 'Cluster', msg: message })}\n`);

/**
 * The primary of `CLUSTER_WORKERS` > 1: one database for all (the embedded engine is
 * started here, once), migrations applied once, then the workers, which share the port
 * (Node cluster) and coordinate through Postgres like any replicas. A worker that crashes
 * is replaced; SIGTERM drains every worker (each as a single process would, docs/adr/0011),
 * then stops the embedded engine.
 */
export async function runPrimary(config: AppConfig): Promise<void> {
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.database.url;
  if (!databaseUrl) {
    embedded = new EmbeddedDatabase({
      dataDir: config.dataDir,
      password: config.database.embeddedPassword!,
      port: config.database.embeddedPort,
      log: line,
    });
    databaseUrl = await embedded.start();
  }
  // DATABASE_SESSION_URL when set (past PgBouncer); the workers inherit it from the environment.
  if (config.database.migrationsRun)
    for (const name of await runMigrations(config.database.sessionUrl ?? databaseUrl)) line(`Applied migration ${name}`);

  const env = { DATABASE_URL: databaseUrl, MIGRATIONS_RUN: 'false', CLUSTER_WORKERS: '1' };
  const startedAt = new Map<number, number>();
  const fork = (): Worker => {
    const worker = cluster.fork(env);
    startedAt.set(worker.id, Date.now());
    return worker;
  };
  let stopping = false;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const early = Date.now() - (startedAt.get(worker.id) ?? 0) < EARLY_EXIT_MS;
    line(
      `Worker ${worker.process.pid} exited (${signal ?? code})${early ? ': it failed at start, stopping Tessera' : '; starting a new one'}`,
    );
    if (early) void stop(1);
    else fork();
  });
  for (let i = 0; i < config.clusterWorkers; i++) fork();
  line(`Tessera primary ${process.pid}: ${config.clusterWorkers} workers sharing port ${config.port}`);

  const stop = async (exitCode: number, signal: NodeJS.Signals = 'SIGTERM') => {
    if (stopping) return;
    stopping = true;
    // Each worker drains on its own (readiness 503, SHUTDOWN_DRAIN_SECONDS, in-flight requests); one that
    // overstays its own deadline is killed, so the whole group is gone within the documented time too.
    const graceMs = (config.shutdown.drainSeconds + config.shutdown.timeoutSeconds + 5) * 1000;
    const deadline = setTimeout(() => {
      line(`Workers still running ${graceMs / 1000} s after ${signal}: killing them`);
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    }, graceMs);
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill(signal);
          }),
      ),
    );
    clearTimeout(deadline);
    await embedded?.stop();
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void stop(0, 'SIGTERM'));
  process.on('SIGINT', () => void stop(0, 'SIGINT'));
}
