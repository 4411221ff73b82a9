import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ConfigError } from '../config/config-error';
import { loadConfig } from '../config/load-config';
import { dataSourceOptions } from './data-source-options';
import { EmbeddedDatabase } from './embedded-postgres';
import { runMigrations } from './run-migrations';

/**
 * `npm run migration:run` / `migration:revert` / `migration:show`: applies the same
 * migrations the app runs at start, on DATABASE_URL or on the embedded engine in DATA_DIR.
 */
async function main(command: string): Promise<void> {
  const { config } = loadConfig();
  const embedded = config.database.url
    ? undefined
    : new EmbeddedDatabase({ dataDir: config.dataDir, password: config.database.embeddedPassword!, port: config.database.embeddedPort });
  const url = config.database.url ?? (await embedded!.start());
  const dataSource = new DataSource(dataSourceOptions(url, 2));
  try {
    await dataSource.initialize();
    if (command === 'run') {
      const applied = await runMigrations(url);
      console.log(applied.length ? applied.map((name) => `applied ${name}`).join('\n') : 'no pending migrations');
    } else if (command === 'revert') {
      await dataSource.undoLastMigration({ transaction: 'each' });
      console.log('reverted the last migration');
    } else if (command === 'show') {
      const pending = await dataSource.showMigrations();
      console.log(pending ? 'there are pending migrations' : 'no pending migrations');
    } else {
      throw new Error(`unknown command "${command}": use run, revert or show`);
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

main(process.argv[2] ?? 'run').then(
  () => process.exit(0),
  (error: unknown) => {
    const lines =
      error instanceof ConfigError ? error.lines : [`Migration failed: ${error instanceof Error ? error.message : String(error)}`];
    for (const line of lines) process.stderr.write(`${line}\n`);
    process.exit(1);
  },
);
