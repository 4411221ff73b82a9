import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { BearerAuthException, setResponseHeaders } from './bearer-auth.exception';
import { IS_PUBLIC, REQUIRED_SCOPES } from './guard.metadata';
import { JwtGuardService } from './jwt-guard.service';
import { TokenError } from './token-errors';
import { grantedScopes, TokenPrincipal } from './token-principal';

/** Set once a request is authenticated, so the global guard and an @Auth() guard verify only once. */
const AUTHENTICATED = Symbol('tessera.guard.authenticated');

/** What a route asks for, read from its decorators once per handler rather than per request. */
interface RouteRule {
  isPublic: boolean;
  requiredScopes: readonly string[];
}

/**
 * Protects routes with bearer JWTs. Used by `@Auth(...)`, or for every route with
 * `JwtGuardModule.forRoot({ global: true })`. It writes its own errors (the design's JSON and
 * the RFC 6750 WWW-Authenticate header), so consumers need no exception filter.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  // Explicit tokens: consumers may compile without emitDecoratorMetadata (esbuild, tsx).
  constructor(
    @Inject(JwtGuardService) private readonly service: JwtGuardService,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  /** controller → handler → rule (a handler inherited by another controller may get other class-level scopes). */
  private readonly rules = new WeakMap<object, WeakMap<object, RouteRule>>();

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return false;
    const { isPublic, requiredScopes: required } = this.ruleOf(context);
    if (isPublic) return true;

    const http = context.switchToHttp();
    const request = http.getRequest<Record<PropertyKey, unknown>>();
    try {
      let principal = request[AUTHENTICATED] as TokenPrincipal | undefined;
      if (!principal) {
        principal = await this.service.authenticate(context, request);
        request[AUTHENTICATED] = principal;
        request.user = principal;
      }
      if (required.length > 0) {
        const granted = grantedScopes(principal);
        if (!required.every((scope) => granted.has(scope))) throw BearerAuthException.insufficientScope(required);
      }
      return true;
    } catch (error) {
      const exception = error instanceof TokenError ? BearerAuthException.invalidToken(error.code, error.message) : error;
      if (exception instanceof BearerAuthException) setResponseHeaders(http.getResponse(), exception.headers);
      throw exception;
    }
  }

  private ruleOf(context: ExecutionContext): RouteRule {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.rules.get(controller);
    if (!byHandler) this.rules.set(controller, (byHandler = new WeakMap()));
    let rule = byHandler.get(handler);
    if (!rule) {
      const handlerScopes = this.reflector.get<string[] | undefined>(REQUIRED_SCOPES, handler);
      const isPublic = this.reflector.get<boolean | undefined>(IS_PUBLIC, handler) ?? (handlerScopes === undefined && this.reflector.get<boolean | undefined>(IS_PUBLIC, controller) === true);
      rule = { isPublic, requiredScopes: [...(this.reflector.get<string[] | undefined>(REQUIRED_SCOPES, controller) ?? []), ...(handlerScopes ?? [])] };
      byHandler.set(handler, rule);
    }
    return rule;
  }
}
