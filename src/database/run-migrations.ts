import { DataSource, MigrationExecutor } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

/** Held while migrating, so that replicas starting together apply each migration once. */
const MIGRATION_LOCK = `hashtextextended('tessera:migrations', 0)`;

/**
 * Applies pending migrations in one transaction that first takes a transaction-level
 * advisory lock: TypeORM's migration runner takes no lock of its own, and two replicas
 * starting on a fresh database would otherwise both try to create the same tables. The
 * second waits, then finds nothing pending.
 *
 * The lock is transaction-scoped, not session-scoped, so that it also holds through a
 * transaction-pooling PgBouncer (a session lock would be taken on one server connection and
 * "released" on another, leaking it) and can never outlive a crashed replica. Pass
 * DATABASE_SESSION_URL when there is one; DATABASE_URL works too (docs/adr/0010).
 * All pending migrations commit together or not at all. Returns the names applied.
 */
export async function runMigrations(url: string): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions(url, 2));
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.startTransaction();
    await runner.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    // 'all' in a transaction already open: the executor neither opens nor commits one of its own.
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'all';
    const applied = await executor.executePendingMigrations();
    await runner.commitTransaction();
    return applied.map((m) => m.name);
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
    await dataSource.destroy();
  }
}
