import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JWT_GUARD_OPTIONS, JwtGuardModuleAsyncOptions, JwtGuardModuleOptions } from './jwt-guard.options';
import { JwtGuardService } from './jwt-guard.service';
import { protectedResourceController, protectedResourceMetadataPath } from './protected-resource.controller';

/**
 * `JwtGuardModule.forRoot({ issuers: [...] })`: verifies bearer JWTs locally (JWKS, shared secret
 * or a local key resolver). The module is global so that `@Auth()` works in every module;
 * `global: true` also installs the guard on every route. With `protectedResource`, it also serves
 * the RFC 9728 metadata route.
 */
@Module({})
export class JwtGuardModule {
  static forRoot(options: JwtGuardModuleOptions): DynamicModule {
    const metadataPath = options.protectedResource ? safePath(options.protectedResource.resource) : undefined;
    return JwtGuardModule.build([{ provide: JWT_GUARD_OPTIONS, useValue: options }], options.global === true, metadataPath);
  }

  static forRootAsync(options: JwtGuardModuleAsyncOptions): DynamicModule {
    const optionsProvider: Provider = {
      provide: JWT_GUARD_OPTIONS,
      useFactory: options.useFactory,
      inject: (options.inject ?? []) as never[],
    };
    const metadataPath = options.protectedResource ? safePath(options.protectedResource) : undefined;
    return { ...JwtGuardModule.build([optionsProvider], options.global === true, metadataPath), imports: options.imports ?? [] };
  }

  private static build(optionProviders: Provider[], installGlobally: boolean, metadataPath: string | undefined): DynamicModule {
    return {
      module: JwtGuardModule,
      global: true,
      controllers: metadataPath === undefined ? [] : [protectedResourceController(metadataPath)],
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

function safePath(resource: string): string {
  try {
    return protectedResourceMetadataPath(resource);
  } catch {
    // normalizeGuardOptions reports the bad URL with the option's name.
    return '.well-known/oauth-protected-resource';
  }
}
