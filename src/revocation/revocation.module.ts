import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { RefreshModule } from '../refresh/refresh.module';
import { TenantsModule } from '../tenants/tenants.module';
import { DenylistService } from './denylist.service';
import { RevocationController } from './revocation.controller';
import { RevocationRepository } from './revocation.repository';
import { RevocationService } from './revocation.service';

@Module({
  imports: [TenantsModule, AuditModule, RefreshModule],
  controllers: [RevocationController],
  providers: [RevocationRepository, DenylistService, RevocationService],
  exports: [DenylistService, RevocationService],
})
export class RevocationModule {}
