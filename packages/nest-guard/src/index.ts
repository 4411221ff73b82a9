export { JwtGuardModule } from './jwt-guard.module';
export { JwtAuthGuard, ROUTE_AUTHENTICATOR } from './jwt-auth.guard';
export type { RouteAuthenticator } from './jwt-auth.guard';
export { JwtGuardService } from './jwt-guard.service';
export { Auth, Public, Principal, TenantId } from './guard.decorators';
export type { ClaimName } from './guard.decorators';
export { BearerAuthException } from './bearer-auth.exception';
export { cookieValue, quotedStringContent } from './header-values';
export type { BearerErrorBody, BearerErrorCode, ChallengeOptions } from './bearer-auth.exception';
export { JwtGuardConfigError } from './jwt-guard.options';
export type {
  JwtGuardModuleAsyncOptions,
  JwtGuardModuleOptions,
  JwtIssuerOptions,
  ProtectedResourceOptions,
  ResolvedKey,
  RevocationCheck,
  SenderConstraintCheck,
} from './jwt-guard.options';
export type { GuardRequest } from './guard-request';
export type { TokenClaims, TokenPrincipal } from './token-principal';
export {
  defaultTokenErrorMessage,
  describeGuardError,
  GUARD_ERROR_CODES,
  INSUFFICIENT_SCOPE_MESSAGE,
  isGuardErrorCode,
  isTokenErrorCode,
  reasonPhrase,
  TOKEN_ERROR_CODES,
  TokenError,
} from './token-errors';
export type { GuardErrorCode, TokenErrorCode } from './token-errors';
export { inspectJwt } from './token-inspection';
export type { InspectedJwt, InspectOptions } from './token-inspection';
export { familyOf } from './keys/pinned-key';
export type { PinnedKey } from './keys/pinned-key';
export * from './core';
export { tesseraIntrospection, TesseraIntrospection, IntrospectionUnavailableError } from './revocation/tessera-introspection';
export type {
  IntrospectionApiKeyEndpoint,
  IntrospectionClientEndpoint,
  IntrospectionEndpoint,
  IntrospectionOptions,
} from './revocation/tessera-introspection';
export { JwksKeySource } from './keys/jwks-key-source';
export * from './dpop';
