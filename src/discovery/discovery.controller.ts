import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PublicDocument } from '../common/rate-limit/rate-limit';
import { DiscoveryService, ServerMetadata } from './discovery.service';

@ApiTags('discovery')
@PublicDocument()
@Controller('.well-known')
export class DiscoveryController {
  constructor(private readonly discovery: DiscoveryService) {}

  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'Authorization server metadata (RFC 8414)' })
  @ApiOkResponse({ description: 'The metadata document', schema: { type: 'object' } })
  authorizationServer(): ServerMetadata {
    return this.discovery.metadata();
  }

  @Get('openid-configuration')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'The same metadata at the OpenID Connect discovery path, for libraries that only look there' })
  @ApiOkResponse({ description: 'The metadata document', schema: { type: 'object' } })
  openidConfiguration(): ServerMetadata {
    return this.discovery.metadata();
  }
}
