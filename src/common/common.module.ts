import { Global, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AppConfig } from '../config/app-config';
import { Clock } from './clock';
import { registerHostileInputDefences } from './http/hostile-input';
import { Scheduler } from './scheduling/scheduler';

@Global()
@Module({ providers: [Clock, Scheduler], exports: [Clock, Scheduler] })
export class CommonModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AppConfig,
  ) {}

  /** After Nest registered its body parsers, before Fastify is ready: see http/hostile-input.ts. */
  onModuleInit(): void {
    registerHostileInputDefences(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), this.config.bodyLimitBytes);
  }
}
