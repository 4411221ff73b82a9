/**
 * The second peer of the guard benchmark: a minimal Nest app whose guard is jose — jwtVerify with
 * createRemoteJWKSet, the way jose's documentation shows it — in a CanActivate on GET /guarded.
 * Same checks as examples/consumer's route: issuer, audience, RS256, typ at+jwt, exp required,
 * and the `read` scope.
 *   ISSUER=… AUDIENCE=… JWKS_URI=… PORT=… HOST=127.0.0.1 ADAPTER=fastify|express \
 *   node -r ./examples/consumer/swc-register.cjs bench/peers/jose-guard.ts
 */
import {
  CanActivate,
  Controller,
  ExecutionContext,
  ForbiddenException,
  Get,
  Injectable,
  Module,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createRemoteJWKSet, jwtVerify, JWTPayload } from 'jose';

const env = process.env;
// One key set for the process: jose caches the document and refetches on an unknown kid (cooldown 30 s).
const jwks = createRemoteJWKSet(new URL(env.JWKS_URI as string));
const verifyOptions = { issuer: env.ISSUER, audience: env.AUDIENCE, algorithms: ['RS256'], typ: 'at+jwt', requiredClaims: ['exp'] };

@Injectable()
class JoseGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; user?: JWTPayload }>();
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) throw new UnauthorizedException();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(header.slice(7), jwks, verifyOptions));
    } catch {
      throw new UnauthorizedException();
    }
    if (
      !String(payload.scope ?? '')
        .split(' ')
        .includes('read')
    )
      throw new ForbiddenException();
    request.user = payload;
    return true;
  }
}

@Controller()
class JoseController {
  @Get('hello')
  hello(): { message: string } {
    return { message: 'hello' };
  }

  @UseGuards(JoseGuard)
  @Get('guarded')
  guarded(@Req() req: { user: JWTPayload }): { sub: string | undefined; scope: unknown } {
    return { sub: req.user.sub, scope: req.user.scope };
  }
}

@Module({ controllers: [JoseController], providers: [JoseGuard] })
class JoseModule {}

async function main(): Promise<void> {
  const express = env.ADAPTER === 'express';
  const app = await NestFactory.create(JoseModule, express ? new ExpressAdapter() : new FastifyAdapter(), { logger: ['warn', 'error'] });
  app.enableShutdownHooks();
  await app.listen(Number(env.PORT ?? 4002), env.HOST ?? '127.0.0.1');
  console.log(`jose guard listening (${express ? 'express' : 'fastify'})`);
}

main().catch((error: unknown) => {
  console.error(`jose guard failed to start: ${(error as Error).message}`);
  process.exit(1);
});
