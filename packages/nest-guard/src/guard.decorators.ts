import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import { IS_PUBLIC, REQUIRED_SCOPES } from './guard.metadata';
import { JwtAuthGuard } from './jwt-auth.guard';
import type { TokenPrincipal } from './token-principal';


/**
 * Requires a valid bearer token carrying every listed scope (403 INSUFFICIENT_SCOPE otherwise).
 * On a class, applies to each route; class and method scopes add up.
 */
export function Auth(...scopes: string[]): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(REQUIRED_SCOPES, scopes), UseGuards(JwtAuthGuard));
}

/** Opts a route (or controller) out of the global guard. An `@Auth()` on the method wins over a `@Public()` class. */
export function Public(): ClassDecorator & MethodDecorator {
  return SetMetadata(IS_PUBLIC, true);
}

/** The verified claims of the caller's token; `@Principal('sub')` picks one claim. */
export const Principal = createParamDecorator((claim: string | undefined, context: ExecutionContext): unknown => {
  const principal = context.switchToHttp().getRequest<{ user?: TokenPrincipal }>().user;
  return claim ? principal?.[claim] : principal;
});

/** The token's `tenant_id` claim (undefined when absent). */
export const TenantId = createParamDecorator((_data: unknown, context: ExecutionContext): string | undefined => {
  const tenantId = context.switchToHttp().getRequest<{ user?: TokenPrincipal }>().user?.tenant_id;
  return typeof tenantId === 'string' ? tenantId : undefined;
});
