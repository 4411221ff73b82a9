import { Module } from '@nestjs/common';
import { DpopJtiPurgeJob } from './dpop-jti-purge.job';
import { DpopJtiRepository } from './dpop-jti.repository';
import { DpopNonceService } from './dpop-nonce.service';
import { DpopService } from './dpop.service';

/** DPoP (RFC 9449) for the server: proof checks with replay in Postgres and stateless nonces. */
@Module({
  providers: [DpopJtiRepository, DpopJtiPurgeJob, DpopNonceService, DpopService],
  exports: [DpopService],
})
export class DpopModule {}
