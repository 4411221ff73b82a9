import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

/** Held while migrating, so that replicas starting together apply each migration once. */
const MIGRATION_LOCK = `hashtextextended('tessera:migrations', 0)`;

/**
 * Applies pending migrations under a session advisory lock: TypeORM's migration runner
 * takes no lock of its own, and two replicas starting on a fresh database would otherwise
 * both try to create the same tables. The second waits, then finds nothing pending.
 * Returns the names of the migrations this call applied.
 */
export async function runMigrations(url: string): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions(url, 2));
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await lock.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`).catch(() => undefined);
    await lock.release();
    await dataSource.destroy();
  }
}
