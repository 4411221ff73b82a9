import { DynamicModule, Module, Type } from '@nestjs/common';
import { JwtGuardModule, JwtGuardModuleOptions } from '@tessera/nest-guard';
import { ConsumerController } from './consumer.controller';

/** The whole consumer service: the guard module (three lines in a real service) and one controller. */
@Module({})
export class ConsumerModule {
  static register(guard: JwtGuardModuleOptions, extraControllers: Type[] = []): DynamicModule {
    return {
      module: ConsumerModule,
      imports: [JwtGuardModule.forRoot(guard)],
      controllers: [ConsumerController, ...extraControllers],
    };
  }
}
