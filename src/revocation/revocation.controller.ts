import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { TenantAccess } from '../auth/api-key.decorators';
import { actorOf, Caller, CurrentCaller } from '../auth/caller';
import { ErrorResponseDto } from '../common/http/error-response.dto';
import { UuidParam } from '../common/http/uuid-param.pipe';
import { SubjectRevocationResponseDto } from './dto/subject-revocation-response.dto';
import { RevocationService } from './revocation.service';

@ApiTags('revocation')
@Controller('v1/tenants/:tenantId/subjects')
export class RevocationController {
  constructor(private readonly revocations: RevocationService) {}

  @Post(':sub/revoke')
  @HttpCode(200)
  @TenantAccess()
  @ApiOperation({
    summary: 'Revoke every token of a subject issued up to now and end its refresh families',
    description:
      'Sets a per-subject "not before": access tokens (and tokens signed by the tenant’s registered keys) of this `sub` with `iat` at or before this second stop working on every replica within a second; the subject’s refresh token families end. Calling again moves the cut-off forward.',
  })
  @ApiParam({
    name: 'sub',
    description: 'The subject (`sub` claim), URL-encoded; at most 500 characters (the router’s path-parameter limit; longer answers 414)',
  })
  @ApiOkResponse({ type: SubjectRevocationResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'NOT_FOUND: no such tenant' })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description:
      'REVOCATION_LIMIT_REACHED: the tenant holds REVOCATION_MAX_SUBJECTS_PER_TENANT cut-offs still in force and this subject has none yet',
  })
  revoke(
    @Param('tenantId', UuidParam) tenantId: string,
    @Param('sub') sub: string,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<SubjectRevocationResponseDto> {
    return this.revocations.revokeSubject(tenantId, sub, actorOf(caller), request.id);
  }
}
