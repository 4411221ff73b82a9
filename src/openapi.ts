import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { API_KEY_SECURITY } from './auth/api-key.decorators';
import { AppConfig } from './config/app-config';

export function buildOpenApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Tessera')
    .setDescription(
      'Self-hosted token service: signing keys with rotation, access JWTs (RFC 9068), rotating refresh tokens, ' +
        'JWKS, OAuth token/revoke/introspect, and tenant-registered public keys. Errors outside /oauth/* are ' +
        '`{statusCode, error, code, message}`; /oauth/* errors follow RFC 6749 §5.2.',
    )
    .setVersion('1')
    .addServer(config.publicUrl)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'ADMIN_API_KEY or a tenant API key' }, API_KEY_SECURITY)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addBasicAuth(
      {
        type: 'http',
        scheme: 'basic',
        description: 'OAuth client_secret_basic: client_id and client_secret (form-urlencoded) as user and password',
      },
      'client-basic',
    );
  return SwaggerModule.createDocument(app, builder.build());
}

/** Swagger UI at /docs and the document at /docs-json. */
export function setupOpenApi(app: INestApplication, config: AppConfig): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, config), {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    customSiteTitle: 'Tessera API',
  });
}
