import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { AuthGuard, IAuthGuard } from '@nestjs/passport';
import type { RouteAuthenticator } from '../jwt-auth.guard';
import { TokenError } from '../token-errors';
import type { TokenPrincipal } from '../token-principal';
import { TesseraStrategy } from './tessera.strategy';

/**
 * Lets `@Auth()` and the global guard authenticate through passport (`AuthGuard` with this
 * module's TesseraStrategy) instead of the core directly; JwtAuthGuard keeps the scope checks
 * and writes the errors. Refusals come back as the strategy's TokenError.
 */
@Injectable()
export class PassportRouteAuthenticator implements RouteAuthenticator {
  private readonly guard: IAuthGuard;

  constructor(@Inject(TesseraStrategy) strategy: TesseraStrategy) {
    class BridgeGuard extends AuthGuard(strategy.uniqueName) {
      override handleRequest<T>(error: unknown, user: T, info: unknown): T {
        if (!error && user) return user;
        throw error ?? (info instanceof Error ? info : new TokenError('MISSING_TOKEN'));
      }
    }
    this.guard = new BridgeGuard();
  }

  async authenticate(context: ExecutionContext, request: object): Promise<TokenPrincipal> {
    await this.guard.canActivate(context);
    return (request as { user: TokenPrincipal }).user;
  }
}
