import { Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { ClientsModule } from '../clients/clients.module';
import { AppConfig } from '../config/app-config';
import { DpopModule } from '../dpop/dpop.module';
import { RefreshModule } from '../refresh/refresh.module';
import { RevocationModule } from '../revocation/revocation.module';
import { TenantsModule } from '../tenants/tenants.module';
import { TokensModule } from '../tokens/tokens.module';
import { TrustedIssuersModule } from '../trusted-issuers/trusted-issuers.module';
import { VerificationModule } from '../verification/verification.module';
import { OAuthClientAuthenticator } from './client-authentication';
import { registerOAuthFormParser } from './form-body';
import { GRANTS } from './grants';
import { JwtBearerJtiPurgeJob } from './grants/jwt-bearer-jti-purge.job';
import { JwtBearerJtiRepository } from './grants/jwt-bearer-jti.repository';
import { TOKEN_GRANTS, TokenEndpointService } from './grants/token-endpoint.service';
import { IntrospectController } from './introspect.controller';
import { RevokeController } from './revoke.controller';
import { TenantCallerAuthenticator } from './tenant-caller-authentication';
import { TokenIntrospectionService } from './token-introspection.service';
import { TokenRevocationService } from './token-revocation.service';
import { TokenController } from './token.controller';

/** The OAuth endpoints under /oauth/* (token; revoke and introspect). */
@Module({
  imports: [
    DpopModule,
    ClientsModule,
    TokensModule,
    RefreshModule,
    TenantsModule,
    VerificationModule,
    RevocationModule,
    TrustedIssuersModule,
  ],
  controllers: [TokenController, IntrospectController, RevokeController],
  providers: [
    OAuthClientAuthenticator,
    JwtBearerJtiRepository,
    JwtBearerJtiPurgeJob,
    ...GRANTS,
    { provide: TOKEN_GRANTS, useFactory: (...grants: unknown[]) => grants, inject: GRANTS },
    TokenEndpointService,
    TenantCallerAuthenticator,
    TokenIntrospectionService,
    TokenRevocationService,
  ],
  exports: [OAuthClientAuthenticator, TokenEndpointService],
})
export class OAuthModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AppConfig,
  ) {}

  /** Form bodies for /oauth/* only; see form-body.ts. Runs before Fastify is ready. */
  onModuleInit(): void {
    registerOAuthFormParser(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), this.config.bodyLimitBytes);
  }
}
