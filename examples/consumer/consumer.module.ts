import { DynamicModule, Module, Type } from '@nestjs/common';
import { JwtGuardModule, JwtGuardModuleOptions } from '@tessera/nest-guard';
import { ConsumerController } from './consumer.controller';

export type GuardMode = 'fast' | 'passport';

/**
 * The whole consumer service: the guard module (three lines in a real service) and one controller.
 * `passport` mode adds the passport integration (`@tessera/nest-guard/passport`): `@Auth()` routes
 * then authenticate through `AuthGuard('tessera')`, and /passport/* shows passport's own guards.
 */
@Module({})
export class ConsumerModule {
  static register(guard: JwtGuardModuleOptions, extraControllers: Type[] = [], mode: GuardMode = 'fast'): DynamicModule {
    if (mode === 'passport') {
      // Loaded only in this mode: a fast-path app never loads passport.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { TesseraPassportModule } = require('@tessera/nest-guard/passport') as typeof import('@tessera/nest-guard/passport');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { PassportController } = require('./passport.controller') as typeof import('./passport.controller');
      return {
        module: ConsumerModule,
        imports: [JwtGuardModule.forRoot(guard), TesseraPassportModule.register({ authDecorator: true })],
        controllers: [ConsumerController, PassportController, ...extraControllers],
      };
    }
    return {
      module: ConsumerModule,
      imports: [JwtGuardModule.forRoot(guard)],
      controllers: [ConsumerController, ...extraControllers],
    };
  }
}
