import { AddressInfo, connect } from 'node:net';
import { startTestApp, TestApp } from './utils/test-app';
import { createTenant, issueToken } from './utils/verification-fixtures';

/**
 * Adversarial pass (after issues 11 and 17): ADR 0009 refuses a header Tessera reads that arrives twice, but
 * `Authorization` was not among them. Node keeps only the first `Authorization`, so a request carrying a valid token
 * and then a forged one passed forward-auth, while nginx's `auth_request` snippet hands the upstream both, and an
 * upstream that reads the last one (or all of them) acts on a token nobody verified. Refused now, as a conflict.
 */
describe('adversarial: forward-auth refuses a request that carries more than one credential header (e2e)', () => {
  let t: TestApp;
  let port: number;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    const server = t.tessera.app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    token = (await issueToken(t, await createTenant(t, 'adv-fa-creds'))).access_token;
  });
  afterAll(() => t.close());

  /** Header lines written as they are: duplicates included (no client library keeps them). */
  const verify = (lines: string[]) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: Number(text.split(' ')[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
      });
      const head = [
        'GET /v1/auth/verify HTTP/1.1',
        'host: 127.0.0.1',
        'connection: close',
        'x-original-method: GET',
        'x-original-uri: /x',
        ...lines,
      ];
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
    });

  it('one Authorization passes', async () => {
    expect((await verify([`authorization: Bearer ${token}`])).status).toBe(200);
  });

  it.each([
    [
      'a valid token, then a forged one',
      () => [`authorization: Bearer ${token}`, 'authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.'],
    ],
    ['the same token twice', () => [`authorization: Bearer ${token}`, `Authorization: Bearer ${token}`]],
    ['a token, then another scheme', () => [`authorization: Bearer ${token}`, 'authorization: Basic YWRtaW46YWRtaW4=']],
  ])('%s: 400 FORWARDED_REQUEST_CONFLICT', async (_name, lines) => {
    const res = await verify(lines());
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'FORWARDED_REQUEST_CONFLICT' });
  });

  // The guard behind /v1/me, and any consumer's, took the first of two Authorization headers: an app that reads the
  // header itself would have seen the unverified copy.
  it('the guard (/v1/me) refuses two Authorization headers too', async () => {
    const socket = connect(port, '127.0.0.1');
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
      socket.on('error', reject);
      socket.on('end', () => resolve(text));
      socket.write(
        `GET /v1/me HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\nauthorization: Bearer ${token}\r\nauthorization: Bearer forged\r\n\r\n`,
      );
    });
    expect(Number(answer.split(' ')[1])).toBe(401);
  });
});

describe('adversarial: forward-auth refuses its token cookie named twice (e2e)', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { FORWARD_AUTH_COOKIE: 'tessera_at' } });
    token = (await issueToken(t, await createTenant(t, 'adv-fa-cookie'))).access_token;
  });
  afterAll(() => t.close());

  const verify = (cookie: string) => t.http.get('/v1/auth/verify').set({ cookie, 'x-original-method': 'GET', 'x-original-uri': '/x' });

  it('one cookie passes; the same name twice (a verified token first, a forged one after) is 400 FORWARDED_REQUEST_CONFLICT', async () => {
    expect((await verify(`a=1; tessera_at=${token}; b=2`)).status).toBe(200);
    for (const cookie of [`tessera_at=${token}; tessera_at=forged`, `tessera_at=${token}; other=1; tessera_at="${token}"`]) {
      const res = await verify(cookie);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('FORWARDED_REQUEST_CONFLICT');
    }
  });
});
