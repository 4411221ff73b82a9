import { createHash } from 'node:crypto';
import { ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerModuleOptions, ThrottlerOptions } from '@nestjs/throttler';
import { AppConfig } from '../../config/app-config';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';

const PUBLIC_DOCUMENT = 'tessera:public-document';

/** Marks a route as a public document (JWKS, discovery, health, docs): the generous per-IP limit applies. */
export const PublicDocument = () => SetMetadata(PUBLIC_DOCUMENT, true);

const isPublicDocument = (ctx: ExecutionContext): boolean =>
  Reflect.getMetadata(PUBLIC_DOCUMENT, ctx.getHandler()) === true || Reflect.getMetadata(PUBLIC_DOCUMENT, ctx.getClass()) === true;

const apiKeyOf = (ctx: ExecutionContext): string | undefined => {
  const header = ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers['x-api-key'];
  return Array.isArray(header) ? header[0] : header;
};

/**
 * Three limits, each switched off by 0: per client IP on ordinary routes, a more generous
 * per-IP limit on public documents, and per API key (tracked by a hash of the key, never
 * the key). The client IP is the throttler's default tracker: request.ip as TRUST_PROXY lets
 * Fastify derive it, IPv6 grouped by /64; never a header read here (docs/adr/0009). Failed credential checks have their own strict limit (CredentialFailureLimiter).
 */
export function throttlerOptions(config: AppConfig): ThrottlerModuleOptions {
  const { windowSeconds, perIp, publicPerIp, perApiKey } = config.rateLimit;
  const ttl = windowSeconds * 1000;
  const throttlers: ThrottlerOptions[] = [
    { name: 'ip', ttl, limit: perIp, skipIf: (ctx) => perIp === 0 || isPublicDocument(ctx) },
    { name: 'public', ttl, limit: publicPerIp, skipIf: (ctx) => publicPerIp === 0 || !isPublicDocument(ctx) },
    {
      name: 'api-key',
      ttl,
      limit: perApiKey,
      skipIf: (ctx) => perApiKey === 0 || !apiKeyOf(ctx),
      getTracker: (req) => createHash('sha256').update(String(req.headers['x-api-key'])).digest('base64url').slice(0, 22),
    },
  ];
  return { throttlers, setHeaders: false };
}

/** ThrottlerGuard answering 429 RATE_LIMITED with a plain Retry-After header. */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new AppException(ErrorCode.RATE_LIMITED, undefined, { 'retry-after': String(Math.max(1, detail.timeToBlockExpire)) });
  }
}
