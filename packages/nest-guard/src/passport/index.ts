// @tessera/nest-guard/passport: the passport integration. Needs the optional peers passport,
// passport-jwt and @nestjs/passport; the main entry (@Auth(), the global guard) never loads them.
export { TESSERA_STRATEGY, TesseraStrategy } from './tessera.strategy';
export { TesseraAuthGuard } from './tessera-auth.guard';
export { TesseraPassportModule } from './tessera-passport.module';
export type { TesseraPassportOptions } from './tessera-passport.module';
