import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { DpopModule } from '../dpop/dpop.module';
import { KeysModule } from '../keys/keys.module';
import { RefreshModule } from '../refresh/refresh.module';
import { TenantsModule } from '../tenants/tenants.module';
import { AccessTokenService } from './access-token.service';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

@Module({
  imports: [KeysModule, ClientsModule, TenantsModule, RefreshModule, DpopModule],
  controllers: [TokensController],
  providers: [AccessTokenService, TokensService],
  exports: [AccessTokenService],
})
export class TokensModule {}
