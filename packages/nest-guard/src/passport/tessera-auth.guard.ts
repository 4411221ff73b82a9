import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { BearerAuthException, ChallengeOptions, setResponseHeaders } from '../bearer-auth.exception';
import { JwtGuardService } from '../jwt-guard.service';
import { TokenError } from '../token-errors';
import { TESSERA_STRATEGY } from './tessera.strategy';

/** passport's outcome as the design's errors: a TokenError (the strategy's `fail`) becomes a 401 BearerAuthException. */
export function bearerOutcome<T>(error: unknown, user: T, info: unknown, challenge: ChallengeOptions): T {
  if (!error && user) return user;
  const cause = error ?? info;
  if (cause instanceof BearerAuthException) throw cause;
  if (cause instanceof TokenError) throw BearerAuthException.invalidToken(cause.code, cause.message, challenge);
  if (error) throw error;
  throw BearerAuthException.invalidToken('MISSING_TOKEN', undefined, challenge);
}

/**
 * `AuthGuard('tessera')` answering with the design's JSON and RFC 6750 challenge (plain
 * `AuthGuard('tessera')` works too, with @nestjs/passport's generic 401). Scopes are not its job:
 * use `@Auth(...scopes)` (fast path, or through passport with `authDecorator: true`).
 */
@Injectable()
export class TesseraAuthGuard extends AuthGuard(TESSERA_STRATEGY) {
  private readonly challenge: ChallengeOptions;

  constructor(@Inject(JwtGuardService) guard: JwtGuardService) {
    super();
    const metadataUrl = guard.options.protectedResource?.metadataUrl;
    this.challenge = metadataUrl === undefined ? {} : { resourceMetadata: metadataUrl };
  }

  override handleRequest<T>(error: unknown, user: T, info: unknown, context: ExecutionContext): T {
    try {
      return bearerOutcome(error, user, info, this.challenge);
    } catch (exception) {
      if (exception instanceof BearerAuthException) setResponseHeaders(context.switchToHttp().getResponse(), exception.headers);
      throw exception;
    }
  }
}
