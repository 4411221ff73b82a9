import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JWT_GUARD_OPTIONS, JwtGuardModuleAsyncOptions, JwtGuardModuleOptions } from './jwt-guard.options';
import { JwtGuardService } from './jwt-guard.service';

/**
 * `JwtGuardModule.forRoot({ issuers: [...] })`: verifies bearer JWTs locally (JWKS, shared secret
 * or a local key resolver). The module is global so that `@Auth()` works in every module;
 * `global: true` also installs the guard on every route.
 */
@Module({})
export class JwtGuardModule {
  static forRoot(options: JwtGuardModuleOptions): DynamicModule {
    return JwtGuardModule.build([{ provide: JWT_GUARD_OPTIONS, useValue: options }], options.global === true);
  }

  static forRootAsync(options: JwtGuardModuleAsyncOptions): DynamicModule {
    const optionsProvider: Provider = {
      provide: JWT_GUARD_OPTIONS,
      useFactory: options.useFactory,
      inject: (options.inject ?? []) as never[],
    };
    return { ...JwtGuardModule.build([optionsProvider], options.global === true), imports: options.imports ?? [] };
  }

  private static build(optionProviders: Provider[], installGlobally: boolean): DynamicModule {
    return {
      module: JwtGuardModule,
      global: true,
      providers: [
        ...optionProviders,
        JwtGuardService,
        JwtAuthGuard,
        ...(installGlobally ? [{ provide: APP_GUARD, useExisting: JwtAuthGuard }] : []),
      ],
      exports: [JwtGuardService, JwtAuthGuard],
    };
  }
}
