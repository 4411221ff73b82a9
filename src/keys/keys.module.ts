import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AppConfig } from '../config/app-config';
import { JwksController } from './jwks.controller';
import { KeyEncryption } from './key-encryption';
import { KeyRotationService } from './key-rotation.service';
import { KeysService } from './keys.service';
import { SigningKeysController } from './signing-keys.controller';
import { SigningKeysRepository } from './signing-keys.repository';
import { SigningService } from './signing.service';

/** Tessera's own signing keys: lifecycle, JWKS, and the signer the token module uses. */
@Module({
  imports: [AuditModule],
  controllers: [SigningKeysController, JwksController],
  providers: [
    SigningKeysRepository,
    KeysService,
    KeyRotationService,
    SigningService,
    {
      provide: KeyEncryption,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new KeyEncryption(config.keyEncryptionKey, config.previousKeyEncryptionKeys),
    },
  ],
  exports: [KeysService, SigningService],
})
export class KeysModule {}
