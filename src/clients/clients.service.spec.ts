import { generateKeyPairSync } from 'node:crypto';
import { AuditService } from '../audit/audit.service';
import { hashSecret } from '../auth/api-key-format';
import { CredentialCache } from '../auth/credential-cache';
import { CredentialChanges } from '../auth/credential-changes.service';
import { Clock } from '../common/clock';
import { AppException } from '../common/errors/app.exception';
import { AppConfig } from '../config/app-config';
import { TenantsService } from '../tenants/tenants.service';
import { ClientEntity } from './client.entity';
import { ClientsRepository } from './clients.repository';
import { ClientsService } from './clients.service';

const TENANT = '11111111-1111-4111-8111-111111111111';
const CLIENT_ID = 'tcl_0123456789abcdef01234567';

function setup() {
  const repository = { insert: jest.fn(), listLive: jest.fn(), softDelete: jest.fn(), findUsable: jest.fn() };
  const tenants = {
    settings: jest.fn().mockResolvedValue({ id: TENANT, isDisabled: false, accessTokenMaxTtl: 600, registeredTokenMaxTtl: 600 }),
  };
  const audit = { record: jest.fn().mockResolvedValue(undefined) };
  const changes = new CredentialChanges({ listen: jest.fn() } as never);
  const cache = new CredentialCache(new Clock(), changes);
  const service = new ClientsService(
    repository as unknown as ClientsRepository,
    tenants as unknown as TenantsService,
    audit as unknown as AuditService,
    cache,
    changes,
    { allowInsecureIssuersForTests: false } as AppConfig,
  );
  return { service, repository, tenants, audit, cache, changes };
}

const row = (values: Partial<ClientEntity>): ClientEntity =>
  Object.assign(new ClientEntity(), {
    clientId: CLIENT_ID,
    tenantId: TENANT,
    name: 'n',
    scopes: [],
    secretHash: Buffer.alloc(32),
    tokenEndpointAuthMethod: 'client_secret_basic',
    jwks: null,
    jwksUri: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    deletedAt: null,
    ...values,
  });

describe('ClientsService', () => {
  describe('create (private_key_jwt)', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

    it('stores public keys with a kid and a pinned alg, and answers no secret', async () => {
      const { service, repository } = setup();
      repository.insert.mockImplementation(async (v) => row(v));
      const jwk = publicKey.export({ format: 'jwk' });
      const created = await service.create(
        TENANT,
        { name: 'w', scopes: [], tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } },
        'admin',
      );
      const stored = repository.insert.mock.calls[0][0];
      expect(stored.secretHash).toBeNull();
      expect(stored.jwks.keys[0]).toEqual({ ...jwk, kid: expect.any(String), alg: 'ES256', use: 'sig' });
      expect(created.clientSecret).toBeUndefined();
      expect(created.tokenEndpointAuthMethod).toBe('private_key_jwt');
    });

    it('refuses private key material, HS* algorithms, both or neither key source, and keys on a secret client', async () => {
      const { service } = setup();
      const create = (dto: object) => service.create(TENANT, { name: 'w', scopes: [], ...dto }, 'admin');
      await expect(
        create({ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [privateKey.export({ format: 'jwk' })] } }),
      ).rejects.toThrow(/private key material/);
      await expect(
        create({ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), alg: 'HS256' }] } }),
      ).rejects.toThrow(/asymmetric/);
      await expect(create({ tokenEndpointAuthMethod: 'private_key_jwt' })).rejects.toThrow(/exactly one/);
      await expect(
        create({
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwks: { keys: [publicKey.export({ format: 'jwk' })] },
          jwksUri: 'https://x/jwks',
        }),
      ).rejects.toThrow(/exactly one/);
      await expect(create({ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'http://example.com/jwks' })).rejects.toThrow(/https/);
      await expect(create({ jwksUri: 'https://example.com/jwks' })).rejects.toThrow(/only for/);
    });

    it('never authenticates a secretless client with a secret', async () => {
      const { service, repository } = setup();
      repository.findUsable.mockResolvedValue({
        clientId: CLIENT_ID,
        tenantId: TENANT,
        scopes: [],
        secretHash: null,
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: null,
        jwksUri: 'https://x',
      });
      expect(await service.authenticate(CLIENT_ID, '')).toBeUndefined();
      expect(await service.authenticate(CLIENT_ID, 'anything')).toBeUndefined();
    });
  });

  describe('create', () => {
    it('stores the SHA-256 of a fresh 256-bit secret, answers the secret once and records an audit event without it', async () => {
      const { service, repository, audit } = setup();
      repository.insert.mockImplementation(async (v) => row(v));
      const created = await service.create(TENANT, { name: 'worker', scopes: ['b', 'a', 'b'] }, 'admin', 'req-1');
      const stored = repository.insert.mock.calls[0][0];
      expect(stored.scopes).toEqual(['b', 'a']);
      expect(stored.secretHash).toEqual(hashSecret(created.clientSecret!));
      expect(created).toEqual({
        clientId: stored.clientId,
        name: 'worker',
        scopes: ['b', 'a'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        clientSecret: expect.stringMatching(/^tcs_[A-Za-z0-9_-]{43}$/),
        createdAt: '2026-01-01T00:00:00.000Z',
      });
      expect(audit.record).toHaveBeenCalledWith({
        tenantId: TENANT,
        type: 'client.created',
        actor: 'admin',
        subject: stored.clientId,
        details: { name: 'worker', scopes: ['b', 'a'], tokenEndpointAuthMethod: 'client_secret_basic' },
        requestId: 'req-1',
      });
      expect(JSON.stringify(audit.record.mock.calls)).not.toContain(created.clientSecret);
    });

    it('retries once on an id collision with a new id and secret', async () => {
      const { service, repository } = setup();
      repository.insert.mockRejectedValueOnce({ code: '23505', constraint: 'clients_pkey' }).mockImplementation(async (v) => row(v));
      await service.create(TENANT, { name: 'x', scopes: [] }, 'admin');
      expect(repository.insert).toHaveBeenCalledTimes(2);
      expect(repository.insert.mock.calls[0][0].clientId).not.toBe(repository.insert.mock.calls[1][0].clientId);
    });
  });

  describe('remove', () => {
    it('answers 404 when there is no live client of that tenant, and audits a deletion', async () => {
      const { service, repository, audit } = setup();
      repository.softDelete.mockResolvedValueOnce(false);
      await expect(service.remove(TENANT, CLIENT_ID, 'admin')).rejects.toBeInstanceOf(AppException);
      expect(audit.record).not.toHaveBeenCalled();
      repository.softDelete.mockResolvedValueOnce(true);
      await service.remove(TENANT, CLIENT_ID, 'api-key:k');
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({ type: 'client.deleted', subject: CLIENT_ID, actor: 'api-key:k' }),
      );
    });

    it('refuses the deleted client on the next call, though its row was cached a moment before', async () => {
      const { service, repository } = setup();
      repository.findUsable.mockResolvedValue({ clientId: CLIENT_ID, tenantId: TENANT, scopes: [], secretHash: hashSecret('s') });
      expect(await service.authenticate(CLIENT_ID, 's')).toBeDefined();
      repository.softDelete.mockResolvedValueOnce(true);
      repository.findUsable.mockResolvedValue(undefined);
      await service.remove(TENANT, CLIENT_ID, 'admin');
      expect(await service.authenticate(CLIENT_ID, 's')).toBeUndefined();
    });

    it('never keeps a look-up that was reading while the deletion committed', async () => {
      const { service, repository } = setup();
      let finishRead!: () => void;
      const read = new Promise<void>((resolve) => (finishRead = resolve));
      // The first look-up read the row before the delete and answers after it.
      repository.findUsable.mockImplementationOnce(async () => {
        await read;
        return { clientId: CLIENT_ID, tenantId: TENANT, scopes: [], secretHash: hashSecret('s') };
      });
      const racing = service.authenticate(CLIENT_ID, 's');
      repository.softDelete.mockResolvedValueOnce(true);
      repository.findUsable.mockResolvedValue(undefined);
      await service.remove(TENANT, CLIENT_ID, 'admin');
      finishRead();
      // The racing call reads again (after the delete) rather than failing or using the old row.
      expect(await racing).toBeUndefined();
      expect(await service.authenticate(CLIENT_ID, 's')).toBeUndefined();
      expect(repository.findUsable).toHaveBeenCalledTimes(3);
    });
  });

  describe('authenticate', () => {
    it('answers the client for the right secret only, and never looks up ids that are not shaped like ours', async () => {
      const { service, repository, changes } = setup();
      repository.findUsable.mockResolvedValue({ clientId: CLIENT_ID, tenantId: TENANT, scopes: ['a'], secretHash: hashSecret('right') });
      expect(await service.authenticate(CLIENT_ID, 'right')).toEqual({ clientId: CLIENT_ID, tenantId: TENANT, scopes: ['a'] });
      expect(await service.authenticate(CLIENT_ID, 'wrong')).toBeUndefined();
      expect(await service.authenticate('tcl_x', 'right')).toBeUndefined();
      // The row is reused briefly (CredentialCache); the secret is checked on every call.
      expect(repository.findUsable).toHaveBeenCalledTimes(1);
      repository.findUsable.mockResolvedValue(undefined);
      changes.received(JSON.stringify({ t: 'client', tenantId: TENANT, clientId: CLIENT_ID })); // another replica deleted it
      expect(await service.authenticate(CLIENT_ID, 'right')).toBeUndefined();
      expect(repository.findUsable).toHaveBeenCalledTimes(2);
    });
  });

  describe('findForTenant', () => {
    it('looks the client up within the tenant and never returns the hash', async () => {
      const { service, repository } = setup();
      repository.findUsable.mockResolvedValue({ clientId: CLIENT_ID, tenantId: TENANT, scopes: [], secretHash: Buffer.alloc(32) });
      expect(await service.findForTenant(TENANT, CLIENT_ID)).toEqual({ clientId: CLIENT_ID, tenantId: TENANT, scopes: [] });
      expect(repository.findUsable).toHaveBeenCalledWith(CLIENT_ID, TENANT);
    });
  });
});
