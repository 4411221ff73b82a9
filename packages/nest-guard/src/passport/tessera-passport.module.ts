import { DynamicModule, Module } from '@nestjs/common';
import { ROUTE_AUTHENTICATOR } from '../jwt-auth.guard';
import { PassportRouteAuthenticator } from './passport-route-authenticator';
import { TesseraAuthGuard } from './tessera-auth.guard';
import { TesseraStrategy } from './tessera.strategy';

export interface TesseraPassportOptions {
  /** Also run `@Auth()` routes (and the global guard) through passport rather than the core directly. Default false. */
  authDecorator?: boolean;
}

/**
 * The passport strategy `tessera` over JwtGuardModule's core: import it next to
 * `JwtGuardModule.forRoot(...)` and guard routes with `@UseGuards(TesseraAuthGuard)` (or
 * `AuthGuard('tessera')`). Global, like JwtGuardModule.
 */
@Module({})
export class TesseraPassportModule {
  static register(options: TesseraPassportOptions = {}): DynamicModule {
    return {
      module: TesseraPassportModule,
      global: true,
      providers: [
        TesseraStrategy,
        TesseraAuthGuard,
        ...(options.authDecorator === true
          ? [PassportRouteAuthenticator, { provide: ROUTE_AUTHENTICATOR, useExisting: PassportRouteAuthenticator }]
          : []),
      ],
      exports: [TesseraStrategy, TesseraAuthGuard, ...(options.authDecorator === true ? [ROUTE_AUTHENTICATOR] : [])],
    };
  }
}
