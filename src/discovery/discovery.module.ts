import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { DiscoveryController } from './discovery.controller';
import { DiscoveryService } from './discovery.service';

@Module({ imports: [KeysModule], controllers: [DiscoveryController], providers: [DiscoveryService] })
export class DiscoveryModule {}
