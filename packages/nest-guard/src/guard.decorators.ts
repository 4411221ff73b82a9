import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import { IS_PUBLIC, REQUIRED_SCOPES } from './guard.metadata';
import { JwtAuthGuard } from './jwt-auth.guard';
import type { TokenClaims, TokenPrincipal } from './token-principal';

/**
 * Requires a valid bearer token carrying every listed scope (403 INSUFFICIENT_SCOPE otherwise).
 * On a controller it applies to each of its routes; the controller's scopes and the route's own
 * add up (`@Auth('orders')` on the class + `@Auth('write')` on a method needs both).
 */
export function Auth(...scopes: string[]): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(REQUIRED_SCOPES, scopes), UseGuards(JwtAuthGuard));
}

/** Opts a route (or controller) out of the global guard. An `@Auth()` on the method wins over a `@Public()` class. */
export function Public(): ClassDecorator & MethodDecorator {
  return SetMetadata(IS_PUBLIC, true);
}

/** A claim name: the registered ones autocomplete, any other string is allowed. */
export type ClaimName = Extract<keyof TokenClaims, string> | (string & {});

/**
 * The verified claims of the caller's token, typed: `@Principal() user: TokenPrincipal` (or
 * `TokenPrincipal<MyClaims>`); `@Principal('sub') sub: string` picks one claim. Undefined on a
 * route no guard authenticated (e.g. `@Public()`).
 */
export const Principal: (claim?: ClaimName) => ParameterDecorator = createParamDecorator(
  (claim: ClaimName | undefined, context: ExecutionContext): unknown => {
    const principal = context.switchToHttp().getRequest<{ user?: TokenPrincipal }>().user;
    return claim ? principal?.[claim] : principal;
  },
);

/** The token's `tenant_id` claim (undefined when absent). */
export const TenantId = createParamDecorator((_data: unknown, context: ExecutionContext): string | undefined => {
  const tenantId = context.switchToHttp().getRequest<{ user?: TokenPrincipal }>().user?.tenant_id;
  return typeof tenantId === 'string' ? tenantId : undefined;
});
