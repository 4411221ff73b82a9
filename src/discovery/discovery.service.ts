import { Injectable } from '@nestjs/common';
import { ASYMMETRIC_ALGORITHMS, DPOP_ALGORITHMS } from '@tessera/nest-guard';
import { AppConfig } from '../config/app-config';
import { KeysService } from '../keys/keys.service';
import { TokenEndpointService } from '../oauth/grants/token-endpoint.service';

export type ServerMetadata = Record<string, string | string[]>;

/** private_key_jwt also covers a trusted issuer's token as client_assertion (docs/adr/0018). */
const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
/** RFC 8414 §2: what private_key_jwt assertions may be signed with — never HS* (no shared secret exists) or none. */
const CLIENT_ASSERTION_ALGORITHMS = [...ASYMMETRIC_ALGORITHMS];

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
    tokenEndpoint: TokenEndpointService,
  ) {
    const base = config.publicUrl;
    this.fixed = {
      issuer: base,
      jwks_uri: `${base}/.well-known/jwks.json`,
      token_endpoint: `${base}/oauth/token`,
      revocation_endpoint: `${base}/oauth/revoke`,
      introspection_endpoint: `${base}/oauth/introspect`,
      grant_types_supported: tokenEndpoint.grantTypes,
      token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
      revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      revocation_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
      introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      introspection_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
      response_types_supported: [],
      // RFC 9449 §5.1: the token endpoints take DPoP proofs signed with these (asymmetric only).
      dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
      service_documentation: `${base}/docs`,
    };
  }

  metadata(): ServerMetadata {
    // Tessera's access tokens are JWTs (RFC 9068); this lists the algorithms verifiers will meet.
    return { ...this.fixed, access_token_signing_alg_values_supported: this.keys.jwks().algorithms };
  }
}
