import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyEntity } from '../api-keys/api-key.entity';
import { ApiKeysRepository } from '../api-keys/api-keys.repository';
import { ApiKeyAuthenticator } from './api-key-authenticator.service';
import { ApiKeyGuard } from './api-key.guard';
import { CredentialCache } from './credential-cache';
import { CredentialChanges } from './credential-changes.service';
import { CredentialFailureLimiter } from './credential-failure-limiter';

/**
 * API-key authentication, available to every feature module. It provides api_keys' one
 * repository (ApiKeysRepository, of the api-keys feature) to every module: the API-key CRUD,
 * authentication and a tenant's deletion all go through it.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity])],
  providers: [ApiKeysRepository, ApiKeyAuthenticator, ApiKeyGuard, CredentialFailureLimiter, CredentialCache, CredentialChanges],
  exports: [ApiKeysRepository, ApiKeyAuthenticator, ApiKeyGuard, CredentialFailureLimiter, CredentialCache, CredentialChanges],
})
export class AuthModule {}
