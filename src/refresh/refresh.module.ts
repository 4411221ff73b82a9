import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { RefreshPurgeService } from './refresh-purge.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { RefreshTokensService } from './refresh-tokens.service';

@Module({
  imports: [AuditModule],
  providers: [RefreshTokensRepository, RefreshTokensService, RefreshPurgeService],
  exports: [RefreshTokensService],
})
export class RefreshModule {}
