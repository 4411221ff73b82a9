import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { PublicDocument } from '../common/rate-limit/rate-limit';
import { AppConfig } from '../config/app-config';
import { JwksResponseDto } from '../registered-keys/dto/registered-key-response.dto';
import { KeysService } from './keys.service';

@ApiTags('discovery')
@PublicDocument()
@Controller('.well-known')
export class JwksController {
  constructor(
    private readonly keys: KeysService,
    private readonly config: AppConfig,
  ) {}

  @Get('jwks.json')
  @ApiOperation({
    summary: 'Tessera’s published public keys (pending, active, retiring)',
    description: 'Served from memory with Cache-Control max-age = JWKS_MAX_AGE and an ETag; If-None-Match answers 304.',
  })
  @ApiHeader({ name: 'If-None-Match', required: false })
  @ApiOkResponse({ type: JwksResponseDto })
  @ApiResponse({ status: 304, description: 'Not modified' })
  jwks(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    const { body, etag } = this.keys.jwks();
    reply.header('cache-control', `public, max-age=${this.config.jwksMaxAgeSeconds}`).header('etag', etag);
    if (ifNoneMatch !== undefined && matchesEtag(ifNoneMatch, etag)) {
      reply.status(304).send();
      return;
    }
    reply.type('application/json; charset=utf-8').send(body);
  }
}

/** RFC 9110 §13.1.2: weak comparison, a list of tags, or `*`. */
function matchesEtag(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === etag);
}
