export { AppConfig } from './app-config';
export { ConfigError } from './config-error';
export { ConfigModule } from './config.module';
export { loadConfig } from './load-config';
export type { SigningAlgorithm } from './env.schema';
