import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { PublicDocument } from '../common/rate-limit/rate-limit';
import { AppConfig } from '../config/app-config';
import { MetricsService } from './metrics.service';

@ApiExcludeController(false)
@PublicDocument()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('cache-control', 'no-store')
  scrape(): Promise<string> {
    // With MANAGEMENT_PORT, metrics are served there only (docs/adr/0015): the public port does not expose them.
    if (this.config.management) throw new AppException(ErrorCode.NOT_FOUND);
    return this.metrics.registry.metrics();
  }
}
