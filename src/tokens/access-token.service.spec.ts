import { Clock } from '../common/clock';
import { AppException } from '../common/errors/app.exception';
import { AppConfig } from '../config/app-config';
import { SigningService } from '../keys/signing.service';
import { AccessTokenService } from './access-token.service';

const NOW = new Date('2030-01-01T00:00:00Z');

function setup(signed = 'h.p.s') {
  const sign = jest.fn().mockResolvedValue(signed);
  const clock = Object.assign(new Clock(), { now: () => NOW });
  const config = { publicUrl: 'https://issuer.test' } as AppConfig;
  return { service: new AccessTokenService({ sign } as unknown as SigningService, config, clock), sign };
}

describe('AccessTokenService', () => {
  describe('mint', () => {
    const input = { tenantId: 'tenant-1', sub: 'user-1', clientId: 'tcl_1', scope: 'a b', audience: ['https://api'], ttlSeconds: 60 };

    it('signs the RFC 9068 claims with the typ default of the signer', async () => {
      const { service, sign } = setup();
      const minted = await service.mint({ ...input, claims: { groupRef: 'g' } });
      const payload = sign.mock.calls[0][0];
      expect(sign.mock.calls[0]).toHaveLength(1);
      expect(payload).toEqual({
        groupRef: 'g',
        iss: 'https://issuer.test',
        sub: 'user-1',
        aud: 'https://api',
        exp: 1893456060,
        iat: 1893456000,
        nbf: 1893456000,
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
        client_id: 'tcl_1',
        scope: 'a b',
        tenant_id: 'tenant-1',
      });
      expect(minted).toEqual({ accessToken: 'h.p.s', expiresIn: 60, jti: payload.jti, exp: 1893456060 });
    });

    it('uses the tenant as client_id without a client, an array aud for several audiences, and fresh jtis', async () => {
      const { service, sign } = setup();
      await service.mint({ ...input, clientId: null, audience: ['x', 'y'] });
      await service.mint({ ...input, clientId: null, audience: ['x', 'y'] });
      const [first, second] = sign.mock.calls.map((c) => c[0]);
      expect(first).toMatchObject({ client_id: 'tenant-1', aud: ['x', 'y'] });
      expect(first.jti).not.toBe(second.jti);
    });

    it('never lets custom claims override what Tessera sets', async () => {
      const { service, sign } = setup();
      await service.mint({ ...input, claims: { iss: 'evil', tenant_id: 'other', exp: 1 } });
      expect(sign.mock.calls[0][0]).toMatchObject({ iss: 'https://issuer.test', tenant_id: 'tenant-1', exp: 1893456060 });
    });

    it('refuses to hand out a token over 8 KB', async () => {
      const { service } = setup('x'.repeat(8193));
      await expect(service.mint(input)).rejects.toBeInstanceOf(AppException);
    });
  });
});
