import { Controller, Get, Header } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Auth, Principal } from '@tessera/nest-guard';
import type { TokenPrincipal } from '@tessera/nest-guard';
import { ErrorResponseDto } from '../common/http/error-response.dto';
import { MeResponseDto } from './dto/me-response.dto';

/** Tessera protects its own bearer endpoints with the guard module other services use. */
@ApiTags('me')
@Controller('v1/me')
export class MeController {
  @Get()
  @Auth()
  @Header('cache-control', 'no-store')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'The claims of the caller’s Tessera access token',
    description:
      'Verified by JwtGuardModule (@tessera/nest-guard, its fast path) with Tessera’s own keys, in memory, and the denylist; a cached token stops passing as soon as its key is retired.',
  })
  @ApiOkResponse({ type: MeResponseDto })
  @ApiUnauthorizedResponse({
    type: ErrorResponseDto,
    description:
      'MISSING_TOKEN, MALFORMED_TOKEN, INVALID_SIGNATURE, TOKEN_EXPIRED, TOKEN_NOT_YET_VALID, INVALID_ISSUER, INVALID_AUDIENCE, UNKNOWN_KEY, ALGORITHM_NOT_ALLOWED, TOKEN_REVOKED',
  })
  me(@Principal() principal: TokenPrincipal): MeResponseDto {
    return { ...principal };
  }
}
