import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';

/** TypeORM on the resolved database URL (the configured server or the embedded engine). */
@Module({})
export class DatabaseModule {
  static forRoot(url: string, config: AppConfig): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions(url, config.database.poolSize),
          // Applied before the app starts, under an advisory lock (run-migrations.ts), not here.
          migrationsRun: false,
          autoLoadEntities: true,
          // Start-up must not hang on a bad URL: fail after a few tries with a clear line.
          retryAttempts: 3,
          retryDelay: 1000,
        }),
      ],
    };
  }
}
