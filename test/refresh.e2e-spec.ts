import { Clock } from '../src/common/clock';
import { RefreshGrantContext, RefreshTokensService } from '../src/refresh/refresh-tokens.service';
import { startTestApp, TestApp } from './utils/test-app';

const DAY = 86_400_000;

describe('refresh tokens: rotation and reuse detection (e2e)', () => {
  let t: TestApp;
  let refresh: RefreshTokensService;
  let clock: Clock;
  const admin = () => ({ 'x-api-key': t.adminKey });

  beforeAll(async () => {
    t = await startTestApp({ env: { REFRESH_TOKEN_TTL: '14d', REFRESH_FAMILY_MAX_LIFETIME: '30d', REFRESH_REUSE_GRACE_SECONDS: '5' } });
    refresh = t.tessera.app.get(RefreshTokensService);
    clock = t.tessera.app.get(Clock);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  /** Moves the service's clock to `base + ms` (no sleeping). */
  const at = (base: number, ms: number) => jest.spyOn(clock, 'now').mockReturnValue(new Date(base + ms));

  async function tenantContext(name: string, extra: Partial<RefreshGrantContext> = {}): Promise<RefreshGrantContext> {
    const res = await t.http.post('/v1/tenants').set(admin()).send({ name }).expect(201);
    return {
      tenantId: res.body.id,
      sub: 'user-1',
      clientId: null,
      scope: 'read write',
      audience: ['https://api.example'],
      claims: { plan: 'pro' },
      accessTokenTtl: 300,
      ...extra,
    };
  }

  const familyOf = async (token: string) => {
    const rows = await t.sql<{ family_id: string }>(
      `SELECT family_id FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`,
      [token],
    );
    return rows[0]?.family_id;
  };

  it('issues opaque 256-bit tokens and rotates them, keeping the grant context; only hashes are stored', async () => {
    const ctx = await tenantContext('rotate-basic');
    const issued = await refresh.issue(ctx);
    expect(issued.refreshToken).toMatch(/^trt_[A-Za-z0-9_-]{43}$/);
    expect(issued.expiresIn).toBe(14 * 86400);

    const first = await refresh.rotate(issued.refreshToken, null);
    expect(first.context).toEqual(ctx);
    expect(first.refreshToken).toMatch(/^trt_[A-Za-z0-9_-]{43}$/);
    expect(first.refreshToken).not.toBe(issued.refreshToken);
    const second = await refresh.rotate(first.refreshToken, null);
    expect(second.context).toEqual(ctx);

    const familyId = await familyOf(issued.refreshToken);
    const rows = await t.sql<{ generation: number; parent_id: string | null; id: string; used_at: Date | null }>(
      'SELECT id, generation, parent_id, used_at FROM refresh_tokens WHERE family_id = $1 ORDER BY generation',
      [familyId],
    );
    expect(rows.map((r) => r.generation)).toEqual([0, 1, 2]);
    expect(rows[1].parent_id).toBe(rows[0].id);
    expect(rows[2].parent_id).toBe(rows[1].id);
    expect(rows.map((r) => r.used_at !== null)).toEqual([true, true, false]);

    const everything = JSON.stringify([
      await t.sql('SELECT * FROM refresh_tokens'),
      await t.sql('SELECT * FROM refresh_families'),
      await t.sql('SELECT * FROM audit_events'),
    ]);
    for (const token of [issued.refreshToken, first.refreshToken, second.refreshToken]) {
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(token.slice(4));
    }
    expect(t.logs()).not.toContain(issued.refreshToken.slice(4));
  });

  it('gives all of 20 concurrent rotations of one token the same child, and stores exactly one child row', async () => {
    const ctx = await tenantContext('rotate-race');
    const issued = await refresh.issue(ctx);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => refresh.rotate(issued.refreshToken, null)));
    const children = results.map((r) =>
      r.status === 'fulfilled' ? r.value.refreshToken : `rejected: ${String((r as PromiseRejectedResult).reason)}`,
    );
    expect(new Set(children).size).toBe(1);
    expect(children[0]).toMatch(/^trt_/);
    const familyId = await familyOf(issued.refreshToken);
    const rows = await t.sql<{ generation: number }>('SELECT generation FROM refresh_tokens WHERE family_id = $1 ORDER BY generation', [
      familyId,
    ]);
    expect(rows.map((r) => r.generation)).toEqual([0, 1]);
    // The family goes on from that one child.
    await expect(refresh.rotate(children[0], null)).resolves.toMatchObject({ context: ctx });
  });

  it('keeps one line of descent over 200 rounds of 30 concurrent rotations (never two children, never two families)', async () => {
    const ctx = await tenantContext('rotate-race-rounds');
    const issued = await refresh.issue(ctx);
    let token = issued.refreshToken;
    for (let round = 0; round < 200; round++) {
      const results = await Promise.all(Array.from({ length: 30 }, () => refresh.rotate(token, null)));
      const children = new Set(results.map((r) => r.refreshToken));
      expect({ round, children: children.size }).toEqual({ round, children: 1 });
      token = results[0].refreshToken;
    }
    const rows = await t.sql<{ family_id: string; generation: number }>(
      'SELECT family_id, generation FROM refresh_tokens WHERE tenant_id = $1 ORDER BY generation',
      [ctx.tenantId],
    );
    expect(new Set(rows.map((r) => r.family_id)).size).toBe(1);
    expect(rows.map((r) => r.generation)).toEqual(Array.from({ length: 201 }, (_, i) => i));
  });

  it('answers a retry within the grace window with the same child, which stays usable', async () => {
    const ctx = await tenantContext('rotate-grace');
    const base = Date.now();
    at(base, 0);
    const issued = await refresh.issue(ctx);
    const first = await refresh.rotate(issued.refreshToken, null);
    at(base, 4_900);
    const retry = await refresh.rotate(issued.refreshToken, null);
    expect(retry.refreshToken).toBe(first.refreshToken);
    expect(retry.context).toEqual(ctx);
    expect(retry.expiresIn).toBe(14 * 86400 - 5); // the child's own expiry, not a new one
    await expect(refresh.rotate(first.refreshToken, null)).resolves.toMatchObject({ context: ctx });
    expect(await t.sql(`SELECT * FROM audit_events WHERE tenant_id = $1`, [ctx.tenantId])).toEqual([]);
  });

  it('treats reuse after the grace window as theft: the family ends, an audit event is written, and the newest token fails too', async () => {
    const ctx = await tenantContext('rotate-reuse');
    const base = Date.now();
    at(base, 0);
    const issued = await refresh.issue(ctx);
    const gen1 = await refresh.rotate(issued.refreshToken, null);
    at(base, 1_000);
    const gen2 = await refresh.rotate(gen1.refreshToken, null);

    at(base, 6_001); // gen0 was used at base: 6 s ago, past the 5 s grace
    await expect(refresh.rotate(issued.refreshToken, null)).rejects.toMatchObject({
      error: 'invalid_grant',
      description: expect.stringMatching(/already used/),
    });
    await expect(refresh.rotate(gen2.refreshToken, null)).rejects.toMatchObject({
      error: 'invalid_grant',
      description: 'Refresh token was revoked',
    });
    await expect(refresh.rotate(gen1.refreshToken, null)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Presenting a token of the ended family again is not a second detection.
    await expect(refresh.rotate(issued.refreshToken, null)).rejects.toMatchObject({ error: 'invalid_grant' });

    const familyId = await familyOf(issued.refreshToken);
    const [family] = await t.sql<{ revoked_reason: string; revoked_at: Date }>(
      'SELECT revoked_reason, revoked_at FROM refresh_families WHERE id = $1',
      [familyId],
    );
    expect(family).toEqual({ revoked_reason: 'reuse', revoked_at: new Date(base + 6_001) });
    const tokens = await t.sql<{ revoked_at: Date | null; generation: number }>(
      'SELECT generation, revoked_at FROM refresh_tokens WHERE family_id = $1 ORDER BY generation',
      [familyId],
    );
    expect(tokens.map((r) => r.revoked_at !== null)).toEqual([true, true, true]);

    const audit = await t.sql<{ type: string; actor: string; subject: string; details: Record<string, unknown> }>(
      'SELECT type, actor, subject, details FROM audit_events WHERE tenant_id = $1',
      [ctx.tenantId],
    );
    expect(audit).toEqual([
      {
        type: 'refresh_token.reuse_detected',
        actor: 'anonymous',
        subject: 'user-1',
        details: { familyId, generation: 0, usedAt: new Date(base).toISOString(), graceSeconds: 5 },
      },
    ]);
    expect(JSON.stringify(audit)).not.toContain(issued.refreshToken.slice(4));
    expect(t.logs()).toContain('Refresh token reuse detected');
  });

  it('refuses unknown, malformed and expired tokens with invalid_grant, and slides the TTL on rotation', async () => {
    const ctx = await tenantContext('rotate-expiry');
    await expect(refresh.rotate('trt_' + 'A'.repeat(43), null)).rejects.toMatchObject({
      error: 'invalid_grant',
      description: 'Refresh token is invalid',
    });
    await expect(refresh.rotate('not-a-token', null)).rejects.toMatchObject({
      error: 'invalid_grant',
      description: 'Refresh token is invalid',
    });
    await expect(refresh.rotate('', null)).rejects.toMatchObject({ error: 'invalid_grant' });

    const base = Date.now();
    at(base, 0);
    const issued = await refresh.issue(ctx);
    at(base, 10 * DAY);
    const slid = await refresh.rotate(issued.refreshToken, null);
    expect(slid.expiresIn).toBe(14 * 86400); // 14 days from now, past the first token's expiry
    at(base, 24 * DAY + 1000);
    await expect(refresh.rotate(slid.refreshToken, null)).rejects.toMatchObject({
      error: 'invalid_grant',
      description: 'Refresh token expired',
    });
    // An expired token does not end the family or count as reuse.
    expect(await t.sql(`SELECT * FROM audit_events WHERE tenant_id = $1`, [ctx.tenantId])).toEqual([]);
  });

  it('never lets a family outlive REFRESH_FAMILY_MAX_LIFETIME, however often it rotates', async () => {
    const ctx = await tenantContext('rotate-absolute');
    const base = Date.now();
    at(base, 0);
    let token = (await refresh.issue(ctx)).refreshToken;
    for (const day of [10, 20]) {
      at(base, day * DAY);
      const next = await refresh.rotate(token, null);
      expect(next.expiresIn).toBe(day === 20 ? 10 * 86400 : 14 * 86400); // capped at day 30
      token = next.refreshToken;
    }
    at(base, 29 * DAY);
    const last = await refresh.rotate(token, null);
    expect(last.expiresIn).toBe(86400);
    at(base, 30 * DAY);
    await expect(refresh.rotate(last.refreshToken, null)).rejects.toMatchObject({
      error: 'invalid_grant',
      description: 'Refresh token expired',
    });
  });

  it('binds a client’s family to that client: invalid_client without a client, invalid_grant for another, without burning the token', async () => {
    const ctx = await tenantContext('rotate-client', { clientId: 'client-a' });
    const issued = await refresh.issue(ctx);
    await expect(refresh.rotate(issued.refreshToken, null)).rejects.toMatchObject({ error: 'invalid_client', status: 401 });
    await expect(refresh.rotate(issued.refreshToken, 'client-b')).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
    const ok = await refresh.rotate(issued.refreshToken, 'client-a');
    expect(ok.context.clientId).toBe('client-a');
    // A retry by another client within the grace window is refused too, without ending the family.
    await expect(refresh.rotate(issued.refreshToken, 'client-b')).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(refresh.rotate(ok.refreshToken, 'client-a')).resolves.toMatchObject({ context: { clientId: 'client-a' } });

    // A family without a client needs no client authentication.
    const open = await refresh.issue({ ...ctx, clientId: null });
    await expect(refresh.rotate(open.refreshToken, null)).resolves.toMatchObject({ context: { clientId: null } });
  });

  it('refuses families of a disabled or deleted tenant with invalid_grant', async () => {
    const ctx = await tenantContext('rotate-tenant');
    const issued = await refresh.issue(ctx);
    await t.http.patch(`/v1/tenants/${ctx.tenantId}`).set(admin()).send({ disabled: true }).expect(200);
    await expect(refresh.rotate(issued.refreshToken, null)).rejects.toMatchObject({
      error: 'invalid_grant',
      description: expect.stringMatching(/tenant is disabled/),
    });
    await t.http.patch(`/v1/tenants/${ctx.tenantId}`).set(admin()).send({ disabled: false }).expect(200);
    const next = await refresh.rotate(issued.refreshToken, null); // the refused attempt did not burn it
    await t.http.delete(`/v1/tenants/${ctx.tenantId}`).set(admin()).expect(204);
    await expect(refresh.rotate(next.refreshToken, null)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a family created before a subject cut-off even if it escaped the revocation', async () => {
    const ctx = await tenantContext('rotate-cutoff');
    const issued = await refresh.issue(ctx);
    // A cut-off written without ending the family (as if the family was created concurrently).
    await t.sql(
      `INSERT INTO subject_cutoffs (tenant_id, sub, not_before, expires_at) VALUES ($1, $2, now() + interval '1 second', now() + interval '1 day')`,
      [ctx.tenantId, ctx.sub],
    );
    await expect(refresh.rotate(issued.refreshToken, null)).rejects.toMatchObject({
      error: 'invalid_grant',
      description: 'Refresh token was revoked',
    });
  });

  it('revokes a family by any of its tokens for the owning tenant only (RFC 7009)', async () => {
    const ctx = await tenantContext('revoke-family');
    const other = await tenantContext('revoke-family-other');
    const issued = await refresh.issue(ctx);
    const next = await refresh.rotate(issued.refreshToken, null);
    expect(await refresh.revokeFamilyByToken(next.refreshToken, other.tenantId)).toBe(false);
    expect(await refresh.revokeFamilyByToken('trt_' + 'B'.repeat(43), ctx.tenantId)).toBe(false);
    expect(await refresh.revokeFamilyByToken('garbage', ctx.tenantId)).toBe(false);
    await expect(refresh.rotate(next.refreshToken, null)).resolves.toBeDefined();

    const again = await refresh.issue(ctx);
    expect(await refresh.revokeFamilyByToken(again.refreshToken, ctx.tenantId)).toBe(true);
    expect(await refresh.revokeFamilyByToken(again.refreshToken, ctx.tenantId)).toBe(true); // idempotent
    await expect(refresh.rotate(again.refreshToken, null)).rejects.toMatchObject({
      error: 'invalid_grant',
      description: 'Refresh token was revoked',
    });
    const audit = await t.sql<{ type: string; details: { reason: string } }>(
      'SELECT type, details FROM audit_events WHERE tenant_id = $1',
      [ctx.tenantId],
    );
    expect(audit).toEqual([{ type: 'refresh_family.revoked', details: expect.objectContaining({ reason: 'revoked' }) }]);
  });
});

describe('refresh tokens with REFRESH_REUSE_GRACE_SECONDS=0 (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { REFRESH_REUSE_GRACE_SECONDS: '0' } });
  });
  afterAll(() => t.close());

  it('has no grace: of concurrent rotations one wins, any second presentation ends the family', async () => {
    const refresh = t.tessera.app.get(RefreshTokensService);
    const tenant = await t.http.post('/v1/tenants').set({ 'x-api-key': t.adminKey }).send({ name: 'no-grace' }).expect(201);
    const ctx = { tenantId: tenant.body.id, sub: 'u', clientId: null, scope: '', audience: ['a'], claims: null, accessTokenTtl: 60 };
    const issued = await refresh.issue(ctx);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => refresh.rotate(issued.refreshToken, null)));
    const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ refreshToken: string }>[];
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected'))
      expect((r as PromiseRejectedResult).reason).toMatchObject({ error: 'invalid_grant' });
    // The losers were reuse: the family is over, the winner's child included.
    await expect(refresh.rotate(won[0].value.refreshToken, null)).rejects.toMatchObject({ error: 'invalid_grant' });
    const [family] = await t.sql<{ revoked_reason: string }>('SELECT revoked_reason FROM refresh_families WHERE tenant_id = $1', [
      ctx.tenantId,
    ]);
    expect(family.revoked_reason).toBe('reuse');
    expect(await t.sql(`SELECT id FROM audit_events WHERE type = 'refresh_token.reuse_detected'`)).toHaveLength(1);
  });
});
