import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { ErrorCode, reasonPhrase } from '../common/errors/error-code';
import type { ErrorBody } from '../common/errors/global-exception.filter';
import { ErrorResponseDto } from '../common/http/error-response.dto';
import { PublicDocument } from '../common/rate-limit/rate-limit';
import { ShutdownState } from './shutdown-state';

@ApiTags('health')
@PublicDocument()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly shutdown: ShutdownState,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: the database answers a ping within 1.5 s, and the replica is not shutting down' })
  @ApiServiceUnavailableResponse({
    type: ErrorResponseDto,
    description: 'SERVICE_UNAVAILABLE: the database is unreachable, or SIGTERM was received (the replica drains, then exits)',
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult | ErrorBody> {
    // First sign of a shutdown: the load balancer takes this replica out while it still serves.
    // Answered here rather than thrown, so that every health check of the drain is not logged as a failure.
    if (this.shutdown.draining) {
      reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      return {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: reasonPhrase(HttpStatus.SERVICE_UNAVAILABLE),
        code: ErrorCode.SERVICE_UNAVAILABLE,
        message: 'Shutting down: send new requests to another replica (this one drains, then exits)',
      };
    }
    return this.health.check([() => this.db.pingCheck('database', { timeout: 1500 })]);
  }
}
