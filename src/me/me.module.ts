import { Module } from '@nestjs/common';
import { JwtGuardModule } from '@tessera/nest-guard';
import { AppConfig } from '../config/app-config';
import { SIGNING_ALGORITHMS } from '../config/env.schema';
import { DpopModule } from '../dpop/dpop.module';
import { DpopService } from '../dpop/dpop.service';
import { KeysModule } from '../keys/keys.module';
import { KeysService } from '../keys/keys.service';
import { DenylistService } from '../revocation/denylist.service';
import { RevocationModule } from '../revocation/revocation.module';
import { MeController } from './me.controller';

/**
 * GET /v1/me, behind the guard module configured with Tessera's own issuer: keys come from
 * KeysService in memory (no HTTP to itself, no database), revocation from the denylist in
 * memory, asked on every request (no per-jti cache) so a revocation applies at once. The
 * keyResolver is asked again on every verified-cache hit, so an emergency rotation applies at
 * once too (issue 17.6).
 */
@Module({
  imports: [
    JwtGuardModule.forRootAsync({
      imports: [KeysModule, RevocationModule, DpopModule],
      inject: [AppConfig, KeysService, DenylistService, DpopService],
      useFactory: (config: AppConfig, keys: KeysService, denylist: DenylistService, dpop: DpopService) => ({
        // DPoP (RFC 9449): Authorization: DPoP with a proof; a bound token as Bearer is refused.
        senderConstraint: dpop.guardConstraint(),
        issuers: [
          {
            issuer: config.publicUrl,
            audience: config.verifyAudiences,
            algorithms: [...SIGNING_ALGORITHMS],
            keyResolver: (kid: string) => {
              const key = keys.publishedKey(kid);
              return key && { key: key.keyObject, alg: key.alg };
            },
            clockToleranceSec: config.clockToleranceSeconds,
            requiredTyp: 'at+jwt',
            revocation: {
              cacheTtlMs: 0,
              // Every token Tessera signs names its tenant; one that does not is refused, never waved through.
              isRevoked: (claims: Record<string, unknown>) =>
                typeof claims.tenant_id !== 'string' ||
                denylist.isRevoked({
                  tenantId: claims.tenant_id,
                  jti: typeof claims.jti === 'string' ? claims.jti : undefined,
                  sub: typeof claims.sub === 'string' ? claims.sub : undefined,
                  iat: typeof claims.iat === 'number' ? claims.iat : undefined,
                }),
            },
          },
        ],
      }),
    }),
  ],
  controllers: [MeController],
})
export class MeModule {}
