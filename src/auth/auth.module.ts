import { Global, Module } from '@nestjs/common';
import { ApiKeyAuthRepository } from './api-key-auth.repository';
import { ApiKeyGuard } from './api-key.guard';
import { CredentialFailureLimiter } from './credential-failure-limiter';

/** API-key authentication, available to every feature module. */
@Global()
@Module({
  providers: [ApiKeyAuthRepository, ApiKeyGuard, CredentialFailureLimiter],
  exports: [ApiKeyAuthRepository, ApiKeyGuard, CredentialFailureLimiter],
})
export class AuthModule {}
