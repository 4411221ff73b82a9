import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { KeysService } from '../keys/keys.service';

export type ServerMetadata = Record<string, string | string[]>;

const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'];

/**
 * RFC 8414 metadata listing only what Tessera really has: no authorization endpoint (no
 * browser flows), so no response types; the grants of /oauth/token; the algorithms of the
 * keys it publishes now.
 */
@Injectable()
export class DiscoveryService {
  private readonly fixed: ServerMetadata;

  constructor(
    config: AppConfig,
    private readonly keys: KeysService,
  ) {
    const base = config.publicUrl;
    this.fixed = {
      issuer: base,
      jwks_uri: `${base}/.well-known/jwks.json`,
      token_endpoint: `${base}/oauth/token`,
      revocation_endpoint: `${base}/oauth/revoke`,
      introspection_endpoint: `${base}/oauth/introspect`,
      grant_types_supported: ['client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      response_types_supported: [],
      service_documentation: `${base}/docs`,
    };
  }

  metadata(): ServerMetadata {
    // Tessera's access tokens are JWTs (RFC 9068); this lists the algorithms verifiers will meet.
    return { ...this.fixed, access_token_signing_alg_values_supported: this.keys.jwks().algorithms };
  }
}
