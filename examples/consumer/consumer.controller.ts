import { Controller, Get } from '@nestjs/common';
import { Auth, Principal, Public, TenantId, TokenPrincipal } from '@tessera/nest-guard';

/** The example service's routes: one open, one that needs a token with the `read` scope. */
@Controller()
export class ConsumerController {
  /** Open to everyone (`@Public()` matters only when the guard is installed globally). */
  @Public()
  @Get('hello')
  hello(): { message: string } {
    return { message: 'hello' };
  }

  /** Needs a valid token carrying the `read` scope. */
  @Auth('read')
  @Get('guarded')
  guarded(
    @Principal() principal: TokenPrincipal,
    @TenantId() tenantId: string | undefined,
  ): { sub: string | undefined; tenantId: string | undefined; scope: string | undefined } {
    return { sub: principal.sub, tenantId, scope: principal.scope };
  }
}
