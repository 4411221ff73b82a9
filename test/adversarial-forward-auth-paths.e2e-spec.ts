import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, TestApp } from './utils/test-app';
import { createTenant, issueToken } from './utils/verification-fixtures';

/**
 * Adversarial pass (after issues 11 and 17): forward-auth matches rules on the path "normalised the way an upstream may
 * read it" (docs/adr/0009-forward-auth-and-proxy-trust.md), but it kept RFC 3986 path parameters (`;…`) inside a
 * segment. Servlet containers (Tomcat, Jetty, Spring) drop them before routing, and Tomcat reads `..;` as `..`. nginx
 * passes `$request_uri` to the upstream unchanged, so `/public/..;/admin/x` passed the open `/public/**` rule while
 * Tomcat served `/admin/x`, and `/files/secret.txt;.pdf` passed `/files/*.pdf` while Tomcat served `secret.txt`.
 */
const RULES = [
  { method: 'GET', path: '/admin/**', scopes: ['admin'] },
  { method: '*', path: '/public/**', scopes: [] },
  { method: 'GET', path: '/files/*.pdf', scopes: [] },
];

describe('adversarial: path parameters cannot steer forward-auth rules (e2e)', () => {
  let t: TestApp;
  let dir: string;
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-adv-fa-'));
    const rulesFile = join(dir, 'rules.json');
    writeFileSync(rulesFile, JSON.stringify(RULES));
    t = await startTestApp({ env: { FORWARD_AUTH_RULES_FILE: rulesFile } });
    const tenant = await createTenant(t, 'adv-fa-paths');
    token = (await issueToken(t, tenant, { scope: 'read' })).access_token;
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = (uri: string) =>
    t.http.get('/v1/auth/verify').set({ authorization: `Bearer ${token}`, 'x-original-method': 'GET', 'x-original-uri': uri });

  it.each([
    '/public/..;/admin/x',
    '/public/x/..;/..;/admin/x',
    '/public/..;jsessionid=1/admin/x',
    '/admin;jsessionid=1/x',
    '/files/secret.txt;.pdf',
    '/public/%2e%2e;/admin/x',
  ])('%s gets the rules of the path a servlet container serves (403)', async (uri) => {
    const res = await verify(uri);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('INSUFFICIENT_SCOPE');
  });

  it.each(['/public/x', '/public/x;v=1', '/files/a.pdf', '/files/a.pdf;v=2'])('%s stays open', async (uri) => {
    expect((await verify(uri)).status).toBe(200);
  });
});
