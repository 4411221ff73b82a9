import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { ClientsModule } from '../clients/clients.module';
import { OutboundHttp } from '../common/http/outbound-http';
import { TenantsModule } from '../tenants/tenants.module';
import { AssertionJtiPurgeJob } from './assertion-jti-purge.job';
import { AssertionJtiRepository } from './assertion-jti.repository';
import { IssuerDiscovery } from './issuer-discovery';
import { PrivateKeyJwtVerifier } from './private-key-jwt.verifier';
import { RemoteKeySets } from './remote-key-set';
import { SecretlessAuthenticator } from './secretless-authenticator.service';
import { TrustedIssuerEntity } from './trusted-issuer.entity';
import { TrustedIssuerVerifier } from './trusted-issuer.verifier';
import { TrustedIssuersController } from './trusted-issuers.controller';
import { TrustedIssuersRepository } from './trusted-issuers.repository';
import { TrustedIssuersService } from './trusted-issuers.service';

/** Trusted external issuers (CRUD) and secretless client authentication: private_key_jwt and trusted issuers' tokens. */
@Module({
  imports: [TypeOrmModule.forFeature([TrustedIssuerEntity]), ClientsModule, TenantsModule, AuditModule],
  controllers: [TrustedIssuersController],
  providers: [
    TrustedIssuersRepository,
    TrustedIssuersService,
    AssertionJtiRepository,
    AssertionJtiPurgeJob,
    OutboundHttp,
    RemoteKeySets,
    IssuerDiscovery,
    PrivateKeyJwtVerifier,
    TrustedIssuerVerifier,
    SecretlessAuthenticator,
  ],
  exports: [SecretlessAuthenticator],
})
export class TrustedIssuersModule {}
