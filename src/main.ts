import 'reflect-metadata';
import cluster from 'node:cluster';
import { Logger } from 'nestjs-pino';
import { createApp } from './bootstrap';
import { runPrimary } from './cluster';
import { ConfigError } from './config/config-error';
import { loadConfig } from './config/load-config';
import { installGracefulShutdown } from './health/graceful-shutdown';

async function main(): Promise<void> {
  const started = Date.now();
  const { config, warnings } = loadConfig();
  if (config.clusterWorkers > 1 && cluster.isPrimary) {
    for (const warning of warnings) process.stderr.write(`${warning}\n`);
    return runPrimary(config);
  }
  const tessera = await createApp({ config, warnings });
  await tessera.app.listen({ port: config.port, host: config.host });
  const logger = tessera.app.get(Logger);
  logger.log(
    `Tessera listening on http://${config.host}:${config.port} (issuer ${config.publicUrl}) in ${Date.now() - started} ms; database: ${tessera.database}`,
    'Main',
  );

  installGracefulShutdown({ tessera, config, logger });
}

main().catch((error: unknown) => {
  // One line, no stack: configuration and start-up problems are for people, not debuggers.
  if (error instanceof ConfigError) {
    for (const line of error.lines) process.stderr.write(`${line}\n`);
  } else {
    process.stderr.write(`Tessera failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
