import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { AppConfig } from '../../config/app-config';
import { OutboundAddressRefusedError, OutboundHttp } from './outbound-http';

/** OutboundHttp against a local server: refused before connecting, and the limits of an allowed fetch. */
describe('OutboundHttp', () => {
  let server: Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/redirect') res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      else if (req.url === '/big') res.end('x'.repeat(600 * 1024));
      else if (req.url === '/slow') setTimeout(() => res.end('{}'), 2000).unref();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const outbound = (allowLoopback: boolean, networks: AppConfig['outboundAllowedNetworks'] = []) =>
    new OutboundHttp({ allowInsecureIssuersForTests: allowLoopback, outboundAllowedNetworks: networks } as AppConfig);

  it('refuses a name that resolves to loopback at connect time, without opening a connection', async () => {
    const before = connections;
    await expect(outbound(false).get(`http://localhost:${port}/jwks`)).rejects.toBeInstanceOf(OutboundAddressRefusedError);
    await expect(outbound(false).fetch(`http://localhost:${port}/jwks`)).rejects.toThrow(/loopback.*OUTBOUND_ALLOWED_NETWORKS/);
    expect(connections).toBe(before);
  });

  it('refuses IP literals (which node connects to without a lookup), mapped forms included', async () => {
    const before = connections;
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::1]', '169.254.169.254', '10.0.0.1']) {
      await expect(outbound(false).get(`http://${host}:${port}/jwks`)).rejects.toBeInstanceOf(OutboundAddressRefusedError);
    }
    expect(connections).toBe(before);
  });

  it('connects to loopback with ALLOW_INSECURE_ISSUERS_FOR_TESTS, or when OUTBOUND_ALLOWED_NETWORKS lists it', async () => {
    expect(await outbound(true).get(`http://localhost:${port}/jwks`)).toEqual({ status: 200, body: '{"keys":[]}' });
    const allowed = outbound(false, [{ address: '127.0.0.1', prefix: 32, family: 'ipv4' }]);
    expect((await allowed.get(`http://127.0.0.1:${port}/jwks`)).status).toBe(200);
    const response = await allowed.fetch(`http://127.0.0.1:${port}/jwks`, { headers: { accept: 'application/json' } });
    expect({ ok: response.ok, body: await response.json() }).toEqual({ ok: true, body: { keys: [] } });
  });

  it('follows no redirect, stops a body past 512 KB, and gives up at the deadline', async () => {
    const http = outbound(true);
    await expect(http.get(`http://127.0.0.1:${port}/redirect`)).rejects.toThrow(/redirect/);
    await expect(http.get(`http://127.0.0.1:${port}/big`)).rejects.toThrow(/larger than 524288 bytes/);
    await expect(http.get(`http://127.0.0.1:${port}/slow`, { timeoutMs: 200 })).rejects.toThrow(/within 200 ms/);
  });
});
