import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/** Who is calling, as resolved by ApiKeyGuard from `X-Api-Key`. */
export type Caller = { kind: 'admin' } | { kind: 'tenant'; tenantId: string; apiKeyId: string };

export interface RequestWithCaller {
  caller?: Caller;
}

export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const caller = ctx.switchToHttp().getRequest<RequestWithCaller>().caller;
  if (!caller) throw new Error('CurrentCaller used on a route without ApiKeyGuard');
  return caller;
});

/** The actor name written to the audit log and logs: never the key itself. */
export function actorOf(caller: Caller): string {
  return caller.kind === 'admin' ? 'admin' : `api-key:${caller.apiKeyId}`;
}
