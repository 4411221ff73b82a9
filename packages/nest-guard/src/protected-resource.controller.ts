import { Controller, Get, Header, Inject, NotFoundException, Type } from '@nestjs/common';
import { Public } from './guard.decorators';
import { JwtGuardService } from './jwt-guard.service';

/** RFC 9728 §3.1: the metadata lives at /.well-known/oauth-protected-resource + the resource's path. */
export function protectedResourceMetadataPath(resource: string): string {
  const path = new URL(resource).pathname.replace(/\/+$/, '');
  return `.well-known/oauth-protected-resource${path}`;
}

/**
 * GET /.well-known/oauth-protected-resource[/path]: the resource's RFC 9728 metadata (public,
 * cacheable JSON). Built per module because the path comes from the options.
 */
export function protectedResourceController(path: string): Type {
  @Controller()
  class ProtectedResourceMetadataController {
    constructor(@Inject(JwtGuardService) private readonly guard: JwtGuardService) {}

    @Public()
    @Get(path)
    @Header('cache-control', 'public, max-age=3600')
    metadata(): Record<string, unknown> {
      const configured = this.guard.options.protectedResource;
      if (!configured) throw new NotFoundException();
      return configured.document;
    }
  }
  return ProtectedResourceMetadataController;
}
