import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { OAuthModule } from '../oauth/oauth.module';
import { DiscoveryController } from './discovery.controller';
import { DiscoveryService } from './discovery.service';

/** The token endpoint's grants come from OAuthModule's TokenEndpointService: discovery never lists a grant it does not serve. */
@Module({ imports: [KeysModule, OAuthModule], controllers: [DiscoveryController], providers: [DiscoveryService] })
export class DiscoveryModule {}
