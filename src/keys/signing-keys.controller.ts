import { Controller, Get, HttpStatus, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AdminOnly } from '../auth/api-key.decorators';
import { actorOf, Caller, CurrentCaller } from '../auth/caller';
import { ErrorResponseDto } from '../common/http/error-response.dto';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { RotateQueryDto } from './dto/rotate-query.dto';
import { RotationResponseDto, SigningKeyResponseDto } from './dto/signing-key-response.dto';
import { KeyRotationService } from './key-rotation.service';
import { KeysService } from './keys.service';

@ApiTags('signing-keys')
@Controller('v1/signing-keys')
export class SigningKeysController {
  constructor(
    private readonly keys: KeysService,
    private readonly rotation: KeyRotationService,
  ) {}

  @Get()
  @AdminOnly()
  @ApiOperation({ summary: 'List Tessera’s signing keys, newest first (metadata only)' })
  @ApiOkResponse({ type: [SigningKeyResponseDto] })
  list(@Query() page: PaginationQueryDto): Promise<SigningKeyResponseDto[]> {
    return this.keys.list(page.limit, page.offset);
  }

  @Post('rotate')
  @AdminOnly()
  @ApiOperation({
    summary: 'Rotate the signing key',
    description:
      'Publishes a new key now; it signs after KEY_PUBLISH_DELAY (201). A rotation already pending is returned as it is (200). ' +
      '`?immediate=true` is the emergency path: the active key is retired at once and the new key signs now.',
  })
  @ApiCreatedResponse({ type: RotationResponseDto, description: 'A new key was created' })
  @ApiOkResponse({ type: RotationResponseDto, description: 'A rotation was already pending: its key' })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'VALIDATION_FAILED: immediate is not true or false' })
  async rotate(
    @Query() query: RotateQueryDto,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RotationResponseDto> {
    const { isNew, ...result } = await this.rotation.rotate(query.immediate, { actor: actorOf(caller), requestId: request.id });
    reply.status(isNew ? HttpStatus.CREATED : HttpStatus.OK);
    return result;
  }
}
