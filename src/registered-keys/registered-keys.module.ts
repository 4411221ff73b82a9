import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { TenantsModule } from '../tenants/tenants.module';
import { RegisteredKeyEntity } from './registered-key.entity';
import { RegisteredKeysController } from './registered-keys.controller';
import { RegisteredKeysRepository } from './registered-keys.repository';
import { RegisteredKeysService } from './registered-keys.service';

@Module({
  imports: [TypeOrmModule.forFeature([RegisteredKeyEntity]), TenantsModule, AuditModule],
  controllers: [RegisteredKeysController],
  providers: [RegisteredKeysRepository, RegisteredKeysService],
  exports: [RegisteredKeysService],
})
export class RegisteredKeysModule {}
