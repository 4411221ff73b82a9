import { randomBytes } from 'node:crypto';
import { KeysService } from '../src/keys/keys.service';
import { SigningKeysRepository } from '../src/keys/signing-keys.repository';
import { TokenVerifierService } from '../src/verification/token-verifier.service';
import { startTestApp, TestApp } from './utils/test-app';
import { createTenant, issueToken, TestTenant } from './utils/verification-fixtures';

/**
 * A key-set reload that read the database before an emergency rotation and finishes after it
 * must not put the retired key back (docs/adr/0017-revocation-propagation.md). The slow
 * reload is made deterministic with a gate: its read runs for real, then waits for the test
 * before it returns — no sleeps.
 */
describe('key-set reloads racing an emergency rotation (e2e)', () => {
  let a: TestApp;
  let b: TestApp;
  let tenant: TestTenant;
  // Replicas share the key-encryption key; the periodic check is far away, so only the reloads under test run.
  const shared = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'), KEY_CHECK_INTERVAL: '3600' };

  beforeAll(async () => {
    a = await startTestApp({ env: shared });
    b = await startTestApp({ databaseUrl: a.databaseUrl, env: shared });
    tenant = await createTenant(a, 'key-reload-race');
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const keysOf = (t: TestApp) => t.tessera.app.get(KeysService);
  const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid as string;

  /**
   * The next reload on `t` reads the key set now, then holds its answer until `release()`.
   * `read` resolves once that (old) key set has been read.
   */
  function holdNextReload(t: TestApp): { read: Promise<void>; release(): void } {
    const repository = t.tessera.app.get(SigningKeysRepository);
    const original = repository.listPublished.bind(repository);
    let release!: () => void;
    let markRead!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const read = new Promise<void>((resolve) => (markRead = resolve));
    jest.spyOn(repository, 'listPublished').mockImplementationOnce(async () => {
      const records = await original();
      markRead();
      await gate;
      return records;
    });
    return { read, release };
  }

  async function expectOnly(t: TestApp, newKid: string, oldKid: string, oldToken: string): Promise<void> {
    const keys = keysOf(t);
    expect(keys.signingKey()?.kid).toBe(newKid);
    expect(keys.publishedKey(oldKid)).toBeUndefined();
    const jwks = await t.http.get('/.well-known/jwks.json').expect(200);
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual([newKid]);
    await expect(t.tessera.app.get(TokenVerifierService).verify(oldToken)).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
    expect(kidOf((await issueToken(t, tenant)).access_token)).toBe(newKid);
  }

  it('on the replica that rotates: a reload that read before the rotation does not resurrect the old kid', async () => {
    const oldKid = keysOf(a).signingKey()!.kid;
    const oldToken = (await issueToken(a, tenant)).access_token;
    expect(kidOf(oldToken)).toBe(oldKid);

    const held = holdNextReload(a);
    const slow = keysOf(a).reload(); // e.g. the periodic check, started just before the rotation
    await held.read;
    const rotated = await a.http.post('/v1/signing-keys/rotate?immediate=true').set('x-api-key', a.adminKey).expect(201);
    const newKid = rotated.body.kid as string;
    expect(keysOf(a).signingKey()?.kid).toBe(newKid); // the rotation's own reload

    held.release();
    await slow;
    await expectOnly(a, newKid, oldKid, oldToken);
  });

  it('on another replica: a slow reload there does not undo the reload NOTIFY started', async () => {
    const oldKid = keysOf(b).signingKey()!.kid;
    const oldToken = (await issueToken(b, tenant)).access_token;
    expect(kidOf(oldToken)).toBe(oldKid);

    const held = holdNextReload(b);
    const slow = keysOf(b).reload();
    await held.read;
    const rotated = await a.http.post('/v1/signing-keys/rotate?immediate=true').set('x-api-key', a.adminKey).expect(201);
    const newKid = rotated.body.kid as string;
    // B hears the rotation (NOTIFY) and reloads while its slow reload is still held.
    const startedAt = Date.now();
    for (let i = 0; i < 400 && keysOf(b).signingKey()?.kid !== newKid && Date.now() - startedAt < 2000; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(keysOf(b).signingKey()?.kid).toBe(newKid);

    held.release();
    await slow;
    await expectOnly(b, newKid, oldKid, oldToken);
  });
});
