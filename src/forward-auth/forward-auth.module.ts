import { Module } from '@nestjs/common';
import { DpopModule } from '../dpop/dpop.module';
import { VerificationModule } from '../verification/verification.module';
import { ForwardAuthController } from './forward-auth.controller';
import { ForwardAuthService } from './forward-auth.service';

@Module({
  imports: [VerificationModule, DpopModule],
  controllers: [ForwardAuthController],
  providers: [ForwardAuthService],
})
export class ForwardAuthModule {}
