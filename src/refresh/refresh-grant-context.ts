/** What a refresh family remembers, so a rotation can mint an access token like the first one. */
export interface RefreshGrantContext {
  tenantId: string;
  sub: string;
  clientId: string | null;
  scope: string;
  audience: string[];
  claims: Record<string, unknown> | null;
  accessTokenTtl: number;
}
