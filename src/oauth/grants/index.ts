import { ClientCredentialsGrant } from './client-credentials.grant';
import { JwtBearerGrant } from './jwt-bearer.grant';
import { RefreshTokenGrant } from './refresh-token.grant';

/** Every grant the token endpoint serves: one line per grant_type. */
export const GRANTS = [ClientCredentialsGrant, RefreshTokenGrant, JwtBearerGrant];
