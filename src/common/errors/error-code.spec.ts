import { describeErrorCode, ErrorCode, reasonPhrase } from './error-code';

describe('describeErrorCode', () => {
  it('maps every code to the status of the design', () => {
    const statuses = Object.fromEntries(Object.values(ErrorCode).map((c) => [c, describeErrorCode(c).status]));
    expect(statuses).toMatchObject({
      TOKEN_EXPIRED: 401,
      UNAUTHENTICATED: 401,
      INSUFFICIENT_SCOPE: 403,
      TENANT_FORBIDDEN: 403,
      ADMIN_REQUIRED: 403,
      VALIDATION_FAILED: 400,
      NOT_FOUND: 404,
      CONFLICT: 409,
      PAYLOAD_TOO_LARGE: 413,
      UNSUPPORTED_MEDIA_TYPE: 415,
      RATE_LIMITED: 429,
      SERVICE_UNAVAILABLE: 503,
    });
    for (const code of Object.values(ErrorCode)) expect(describeErrorCode(code).message.length).toBeGreaterThan(0);
  });

  it('gives lower-case reason phrases', () => {
    expect(reasonPhrase(401)).toBe('unauthorized');
    expect(reasonPhrase(503)).toBe('service_unavailable');
  });
});
