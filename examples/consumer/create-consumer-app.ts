import { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { JwtGuardModuleOptions } from '@tessera/nest-guard';
import { ConsumerModule, GuardMode } from './consumer.module';

export interface ConsumerAppOptions extends JwtGuardModuleOptions {
  adapter: 'fastify' | 'express';
  /** More controllers to mount (tests use this for routes the example does not need). */
  extraControllers?: Type[];
  /** `fast` (default): `@Auth()` runs the verification core directly; `passport`: through the `tessera` passport strategy. */
  mode?: GuardMode;
  /** Nest's logger; off by default so tests and benchmarks stay quiet. */
  logger?: false | ('log' | 'error' | 'warn' | 'debug' | 'verbose')[];
}

/** Builds and initialises the example consumer on either HTTP adapter (not listening yet). */
export async function createConsumerApp(options: ConsumerAppOptions): Promise<INestApplication> {
  const { adapter, extraControllers, logger = false, mode = 'fast', ...guard } = options;
  const httpAdapter = adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(ConsumerModule.register(guard, extraControllers, mode), httpAdapter, {
    logger,
    abortOnError: false,
  });
  await app.init();
  if (adapter === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  return app;
}
