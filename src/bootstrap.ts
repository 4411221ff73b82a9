import { INestApplication, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { GlobalExceptionFilter } from './common/errors/global-exception.filter';
import { clientErrorHandler } from './common/http/hostile-input';
import { createValidationPipe } from './common/validation/validation.pipe';
import { AppConfig } from './config/app-config';
import { fastifyTrustProxy } from './config/trust-proxy';
import { EmbeddedDatabase } from './database/embedded-postgres';
import { runMigrations } from './database/run-migrations';
import { ShutdownState } from './health/shutdown-state';
import { registerManagementListener } from './management-server';
import { requestIdOf } from './observability/logging';
import { MetricsService } from './observability/metrics.service';
import { setupOpenApi } from './openapi';

export interface CreateAppOptions {
  config: AppConfig;
  /** Messages from configuration loading, logged once the logger exists. */
  warnings?: string[];
  logStream?: DestinationStream;
}

export interface TesseraApp {
  app: NestFastifyApplication;
  /** Human description of the database in use, for the start-up line. */
  database: string;
  /** Closes HTTP (in-flight requests finish), the pool, then the embedded engine. */
  close(): Promise<void>;
}

/** Builds the whole service: database (embedded when DATABASE_URL is unset), Nest on Fastify, OpenAPI. */
export async function createApp({ config, warnings = [], logStream }: CreateAppOptions): Promise<TesseraApp> {
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.database.url;
  let database: string;
  if (databaseUrl) {
    database = `Postgres at ${redactUrl(databaseUrl)} (DATABASE_URL)`;
    if (config.database.sessionUrl)
      database += `, LISTEN and migrations at ${redactUrl(config.database.sessionUrl)} (DATABASE_SESSION_URL)`;
  } else {
    embedded = new EmbeddedDatabase({
      dataDir: config.dataDir,
      password: config.database.embeddedPassword!,
      port: config.database.embeddedPort,
      log: (m) => new NestLogger('EmbeddedPostgres').warn(m),
    });
    databaseUrl = await embedded.start();
    database = `embedded Postgres, data in ${embedded.directory} (127.0.0.1:${new URL(databaseUrl).port})`;
  }

  try {
    // Through a direct connection when there is one (DDL past PgBouncer's query limits); DATABASE_URL works too.
    const applied = config.database.migrationsRun ? await runMigrations(config.database.sessionUrl ?? databaseUrl) : [];
    const adapter = new FastifyAdapter({
      bodyLimit: config.bodyLimitBytes,
      trustProxy: fastifyTrustProxy(config.trustProxy),
      genReqId: requestIdOf,
      // What Node's parser refuses (control characters in headers…) answers in the design's shape.
      clientErrorHandler,
      // Tokens are at most 8 KB; longer headers are refused by Node (431) before the app.
      routerOptions: { maxParamLength: 500 },
    });
    const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ config, databaseUrl, logStream }), adapter, {
      bufferLogs: true,
      abortOnError: false,
    });
    app.useLogger(app.get(Logger));
    app.useGlobalPipes(createValidationPipe());
    app.useGlobalFilters(new GlobalExceptionFilter());

    const fastify = app.getHttpAdapter().getInstance();
    // JSON only on the admin API: a text/plain body is 415, not a string the DTO rejects.
    fastify.removeContentTypeParser('text/plain');
    // One request id for Fastify, the pino request log and the caller (echoed as x-request-id).
    const shutdown = app.get(ShutdownState);
    fastify.addHook('onRequest', (request, reply, done) => {
      (request.raw as { id?: string }).id = request.id;
      reply.header('x-request-id', request.id);
      // Draining (SIGTERM): each keep-alive connection ends after its current answer, so none is cut mid-request later.
      if (shutdown.draining) reply.header('connection', 'close');
      done();
    });
    const metrics = app.get(MetricsService);
    const logger = app.get(Logger);
    fastify.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      if (route !== '/health/live' && route !== '/metrics') {
        const line = {
          reqId: request.id,
          method: request.method,
          url: request.url.split('?')[0],
          route,
          statusCode: reply.statusCode,
          responseTimeMs: Math.round(reply.elapsedTime * 100) / 100,
        };
        // A draining replica's 503 readiness is the shutdown working, not a failure.
        if (reply.statusCode >= 500 && !(shutdown.draining && route === '/health/ready'))
          logger.error({ ...line, msg: 'request failed' }, 'HTTP');
        else logger.log({ ...line, msg: 'request completed' }, 'HTTP');
      }
      done();
    });
    setupOpenApi(app, config);
    if (config.management) registerManagementListener(app, config.management, (m) => logger.log(m, 'Management'));

    for (const warning of warnings) logger.warn(warning, 'Config');
    for (const name of applied) logger.log(`Applied migration ${name}`, 'Database');

    return {
      app,
      database,
      close: async () => {
        await app.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://***';
  }
}

export type { INestApplication };
