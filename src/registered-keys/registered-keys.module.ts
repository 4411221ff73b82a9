import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { ClientsModule } from '../clients/clients.module';
import { TenantsModule } from '../tenants/tenants.module';
import { RegisteredKeyEntity } from './registered-key.entity';
import { RegisteredKeysController } from './registered-keys.controller';
import { RegisteredKeysRepository } from './registered-keys.repository';
import { RegisteredKeysService } from './registered-keys.service';
import { RegisteredTokenClaims } from './registered-token-claims';

@Module({
  imports: [TypeOrmModule.forFeature([RegisteredKeyEntity]), TenantsModule, AuditModule, ClientsModule],
  controllers: [RegisteredKeysController],
  providers: [RegisteredKeysRepository, RegisteredKeysService, RegisteredTokenClaims],
  exports: [RegisteredKeysService, RegisteredTokenClaims],
})
export class RegisteredKeysModule {}
