import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations';

/**
 * The one DataSource definition, shared by the app (TypeOrmModule) and the migration CLI.
 * Migrations only: `synchronize` stays off everywhere.
 */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    // pg pool: fail fast when the database is away so requests answer 503 instead of hanging,
    // and let the pool open new connections when it comes back.
    extra: { max: poolSize, connectionTimeoutMillis: 3000, idleTimeoutMillis: 30000, application_name: 'tessera' },
  };
}
