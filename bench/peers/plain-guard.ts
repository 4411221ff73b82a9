/**
 * The peer of the guard benchmark: a minimal Nest app guarded the way the passport-jwt and
 * jwks-rsa documentation shows it — PassportStrategy(Strategy) with
 * passportJwtSecret({ cache, rateLimit, jwksUri }) and AuthGuard('jwt') on GET /guarded.
 * Same checks as examples/consumer's route: issuer, audience, RS256, exp, and the `read` scope.
 *   ISSUER=… AUDIENCE=… JWKS_URI=… PORT=… HOST=127.0.0.1 ADAPTER=fastify|express \
 *   node -r ./examples/consumer/swc-register.cjs bench/peers/plain-guard.ts
 */
import { Controller, ForbiddenException, Get, Injectable, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy } from 'passport-jwt';

const env = process.env;

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: passportJwtSecret({ cache: true, rateLimit: true, jwksRequestsPerMinute: 10, jwksUri: env.JWKS_URI as string }),
      issuer: env.ISSUER,
      audience: env.AUDIENCE,
      algorithms: ['RS256'],
    });
  }

  validate(payload: { sub?: string; scope?: string }): { sub?: string; scope?: string } {
    if (
      !String(payload.scope ?? '')
        .split(' ')
        .includes('read')
    )
      throw new ForbiddenException();
    return payload;
  }
}

@Controller()
class PlainController {
  @Get('hello')
  hello(): { message: string } {
    return { message: 'hello' };
  }

  @UseGuards(AuthGuard('jwt'))
  @Get('guarded')
  guarded(@Req() req: { user: { sub?: string; scope?: string } }): { sub: string | undefined; scope: string | undefined } {
    return { sub: req.user.sub, scope: req.user.scope };
  }
}

@Module({ imports: [PassportModule], controllers: [PlainController], providers: [JwtStrategy] })
class PlainModule {}

async function main(): Promise<void> {
  const express = env.ADAPTER === 'express';
  const app = await NestFactory.create(PlainModule, express ? new ExpressAdapter() : new FastifyAdapter(), { logger: ['warn', 'error'] });
  app.enableShutdownHooks();
  await app.listen(Number(env.PORT ?? 4001), env.HOST ?? '127.0.0.1');
  console.log(`Plain guard listening (${express ? 'express' : 'fastify'})`);
}

main().catch((error: unknown) => {
  console.error(`Plain guard failed to start: ${(error as Error).message}`);
  process.exit(1);
});
