import { Global, Module } from '@nestjs/common';
import { ApiKeyAuthRepository } from './api-key-auth.repository';
import { ApiKeyGuard } from './api-key.guard';
import { CredentialCache } from './credential-cache';
import { CredentialChanges } from './credential-changes.service';
import { CredentialFailureLimiter } from './credential-failure-limiter';

/** API-key authentication, available to every feature module. */
@Global()
@Module({
  providers: [ApiKeyAuthRepository, ApiKeyGuard, CredentialFailureLimiter, CredentialCache, CredentialChanges],
  exports: [ApiKeyAuthRepository, ApiKeyGuard, CredentialFailureLimiter, CredentialCache, CredentialChanges],
})
export class AuthModule {}
