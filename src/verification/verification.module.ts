import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { RegisteredKeysModule } from '../registered-keys/registered-keys.module';
import { RevocationModule } from '../revocation/revocation.module';
import { TenantsModule } from '../tenants/tenants.module';
import { RegisteredKeyResolver } from './registered-key-resolver';
import { TokenVerifierService } from './token-verifier.service';

/** Verification of bearer tokens and jwt-bearer assertions, for forward-auth, introspection, revocation and grants. */
@Module({
  imports: [KeysModule, RegisteredKeysModule, TenantsModule, RevocationModule],
  providers: [RegisteredKeyResolver, TokenVerifierService],
  exports: [TokenVerifierService],
})
export class VerificationModule {}
