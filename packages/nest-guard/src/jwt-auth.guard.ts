import { CanActivate, ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import type { HttpArgumentsHost } from '@nestjs/common/interfaces/index.js';
import { Reflector } from '@nestjs/core';
import { BearerAuthException, ChallengeOptions, setResponseHeaders } from './bearer-auth.exception';
import { IS_PUBLIC, REQUIRED_SCOPES } from './guard.metadata';
import { JwtGuardService } from './jwt-guard.service';
import { TokenError } from './token-errors';
import { grantedScopes, TokenPrincipal } from './token-principal';

/** Set once a request is authenticated, so the global guard and an @Auth() guard verify only once. */
const AUTHENTICATED = Symbol('tessera.guard.authenticated');

/**
 * Who authenticates a route for JwtAuthGuard. Default: JwtGuardService (the fast path, the core
 * directly). `TesseraPassportModule.register({ authDecorator: true })` (`@tessera/nest-guard/passport`)
 * swaps in the passport strategy, so `@Auth()` routes run through `AuthGuard('tessera')`.
 */
export const ROUTE_AUTHENTICATOR = Symbol('tessera.guard.route-authenticator');
export interface RouteAuthenticator {
  authenticate(context: ExecutionContext, request: object): TokenPrincipal | Promise<TokenPrincipal>;
}

/** What a route asks for, read from its decorators once per handler rather than per request. */
interface RouteRule {
  isPublic: boolean;
  requiredScopes: readonly string[];
}

/**
 * Protects routes with bearer JWTs. Used by `@Auth(...)`, or for every route with
 * `JwtGuardModule.forRoot({ global: true })`. It writes its own errors (the design's JSON and
 * the RFC 6750 WWW-Authenticate header, with RFC 9728 `resource_metadata` when configured), so
 * consumers need no exception filter. A verified-cache hit is answered synchronously.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly challenge: ChallengeOptions;

  // Explicit tokens: consumers may compile without emitDecoratorMetadata (esbuild, tsx).
  constructor(
    @Inject(JwtGuardService) private readonly service: JwtGuardService,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Optional() @Inject(ROUTE_AUTHENTICATOR) private readonly authenticator?: RouteAuthenticator,
  ) {
    const metadataUrl = service.options.protectedResource?.metadataUrl;
    this.challenge = metadataUrl === undefined ? {} : { resourceMetadata: metadataUrl };
  }

  /** controller → handler → rule (a handler inherited by another controller may get other class-level scopes). */
  private readonly rules = new WeakMap<object, WeakMap<object, RouteRule>>();

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return false;
    const rule = this.ruleOf(context);
    if (rule.isPublic) return true;

    const http = context.switchToHttp();
    const request = http.getRequest<Record<PropertyKey, unknown>>();
    const known = request[AUTHENTICATED] as TokenPrincipal | undefined;
    if (known) return this.accept(known, request, rule, http);
    let outcome: TokenPrincipal | Promise<TokenPrincipal>;
    try {
      outcome = this.authenticator ? this.authenticator.authenticate(context, request) : this.service.authenticate(request);
    } catch (error) {
      throw this.refusal(error, http);
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (principal) => this.accept(principal, request, rule, http),
        (error: unknown) => {
          throw this.refusal(error, http);
        },
      );
    }
    return this.accept(outcome, request, rule, http);
  }

  private accept(principal: TokenPrincipal, request: Record<PropertyKey, unknown>, rule: RouteRule, http: HttpArgumentsHost): true {
    if (request[AUTHENTICATED] !== principal) {
      request[AUTHENTICATED] = principal;
      request.user = principal;
    }
    const required = rule.requiredScopes;
    if (required.length > 0) {
      const granted = grantedScopes(principal);
      for (const scope of required)
        if (!granted.has(scope)) throw this.refusal(BearerAuthException.insufficientScope(required, this.challenge), http);
    }
    return true;
  }

  /** A TokenError becomes the design's 401; the challenge header is set on the response too. */
  private refusal(error: unknown, http: HttpArgumentsHost): unknown {
    const exception = error instanceof TokenError ? BearerAuthException.invalidToken(error.code, error.message, this.challenge) : error;
    if (exception instanceof BearerAuthException) setResponseHeaders(http.getResponse(), exception.headers);
    return exception;
  }

  /**
   * Public: `@Public()` on the handler, or on the class unless the handler has its own `@Auth()`.
   * Scopes: the class's `@Auth(...)` scopes plus the handler's (both must be granted).
   */
  private ruleOf(context: ExecutionContext): RouteRule {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.rules.get(controller);
    if (!byHandler) this.rules.set(controller, (byHandler = new WeakMap()));
    let rule = byHandler.get(handler);
    if (!rule) {
      const handlerScopes = this.reflector.get<string[] | undefined>(REQUIRED_SCOPES, handler);
      const isPublic =
        this.reflector.get<boolean | undefined>(IS_PUBLIC, handler) ??
        (handlerScopes === undefined && this.reflector.get<boolean | undefined>(IS_PUBLIC, controller) === true);
      const scopes = new Set([...(this.reflector.get<string[] | undefined>(REQUIRED_SCOPES, controller) ?? []), ...(handlerScopes ?? [])]);
      rule = { isPublic, requiredScopes: [...scopes] };
      byHandler.set(handler, rule);
    }
    return rule;
  }
}
