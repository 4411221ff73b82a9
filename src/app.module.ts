import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ClientsModule } from './clients/clients.module';
import { CommonModule } from './common/common.module';
import { RateLimitGuard, throttlerOptions } from './common/rate-limit/rate-limit';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DiscoveryModule } from './discovery/discovery.module';
import { ForwardAuthModule } from './forward-auth/forward-auth.module';
import { HealthModule } from './health/health.module';
import { KeysModule } from './keys/keys.module';
import { MeModule } from './me/me.module';
import { OAuthModule } from './oauth/oauth.module';
import { loggerParams } from './observability/logging';
import { ObservabilityModule } from './observability/observability.module';
import { RefreshModule } from './refresh/refresh.module';
import { RegisteredKeysModule } from './registered-keys/registered-keys.module';
import { RevocationModule } from './revocation/revocation.module';
import { TenantsModule } from './tenants/tenants.module';
import { TokensModule } from './tokens/tokens.module';
import { TrustedIssuersModule } from './trusted-issuers/trusted-issuers.module';

export interface AppModuleOptions {
  config: AppConfig;
  databaseUrl: string;
  /** Where logs go (stdout when unset); tests capture them here. */
  logStream?: DestinationStream;
}

/** Wiring only: every feature lives in its own module. */
@Module({})
export class AppModule {
  static forRoot({ config, databaseUrl, logStream }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        LoggerModule.forRoot(loggerParams(config, logStream)),
        ThrottlerModule.forRoot(throttlerOptions(config)),
        DatabaseModule.forRoot(databaseUrl, config),
        ObservabilityModule,
        AuthModule,
        HealthModule,
        TenantsModule,
        ApiKeysModule,
        RegisteredKeysModule,
        AuditModule,
        RevocationModule,
        RefreshModule,
        KeysModule,
        DiscoveryModule,
        ClientsModule,
        TokensModule,
        TrustedIssuersModule,
        OAuthModule,
        ForwardAuthModule,
        MeModule,
      ],
      providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
    };
  }
}
