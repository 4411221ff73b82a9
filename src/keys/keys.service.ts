import { createHash, createPublicKey, KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { KeyLifecycle, MetricsService } from '../observability/metrics.service';
import { SigningKeyResponseDto } from './dto/signing-key-response.dto';
import { KeyEncryption } from './key-encryption';
import { SigningKeyRecord, SigningKeysRepository } from './signing-keys.repository';

export interface PublishedKey {
  kid: string;
  alg: string;
  keyObject: KeyObject;
}

export interface ActiveSigningKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
}

export interface JwksDocument {
  body: string;
  etag: string;
  /** The distinct algorithms of the published keys (for the discovery document). */
  algorithms: string[];
}

/**
 * Tessera's own keys as this replica sees them, held in memory: the published public keys
 * (for the JWKS and for verification, with no database round trip) and the one private key
 * that signs, decrypted once per key rather than per request. Only the signing key is ever
 * decrypted: pending and retiring keys stay ciphertext until they sign.
 */
@Injectable()
export class KeysService {
  private published = new Map<string, PublishedKey>();
  private signing?: ActiveSigningKey;
  private document: JwksDocument = jwksDocument([]);
  private records: SigningKeyRecord[] = [];
  /** Numbers reloads in the order they started, and the newest one applied (see reload). */
  private readsStarted = 0;
  private newestApplied = 0;

  constructor(
    private readonly repository: SigningKeysRepository,
    private readonly encryption: KeyEncryption,
    private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    metrics.useKeyLifecycleSource(() => this.lifecycle());
  }

  /** An own published key (pending, active or retiring) by kid; undefined once retired. */
  publishedKey(kid: string): PublishedKey | undefined {
    return this.published.get(kid);
  }

  /** The key that signs now, or undefined before the first key exists. */
  signingKey(): ActiveSigningKey | undefined {
    return this.signing;
  }

  jwks(): JwksDocument {
    return this.document;
  }

  /** Metadata only: never the private key, its ciphertext or its encryption-key id. */
  async list(limit: number, offset: number): Promise<SigningKeyResponseDto[]> {
    return (await this.repository.listAll(limit, offset)).map((k) => ({
      kid: k.kid,
      algorithm: k.algorithm,
      status: k.status,
      createdAt: k.createdAt.toISOString(),
      activatesAt: k.activatesAt.toISOString(),
      activatedAt: k.activatedAt?.toISOString() ?? null,
      retiringAt: k.retiringAt?.toISOString() ?? null,
      retireAt: k.retireAt?.toISOString() ?? null,
      retiredAt: k.retiredAt?.toISOString() ?? null,
    }));
  }

  /** Upcoming transitions of the key set as last loaded, for /metrics. */
  lifecycle(): KeyLifecycle {
    const counts = new Map<string, { algorithm: string; status: string; count: number }>();
    for (const r of this.records) {
      const key = `${r.algorithm}/${r.status}`;
      const entry = counts.get(key) ?? { algorithm: r.algorithm, status: r.status, count: 0 };
      entry.count++;
      counts.set(key, entry);
    }
    return {
      activations: this.records.filter((r) => r.status === 'pending').map((r) => ({ algorithm: r.algorithm, at: r.activatesAt })),
      retirements: this.records
        .filter((r) => r.status === 'retiring' && r.retireAt)
        .map((r) => ({ algorithm: r.algorithm, at: r.retireAt! })),
      counts: [...counts.values()],
    };
  }

  /**
   * Reads the published keys again; decrypts the signing key only when it changed.
   *
   * Reloads run concurrently (NOTIFY, the periodic check, a rotation on this replica), so each
   * read is numbered when it starts and only applied if no read that started later has been
   * applied already. A slow read from before an emergency rotation that finishes after the
   * rotation's own reload is dropped: it would put the retired key back into signing and
   * verification. A read that starts later sees every change committed before it started.
   */
  async reload(): Promise<void> {
    const read = ++this.readsStarted;
    const records = await this.repository.listPublished();
    if (read < this.newestApplied) return;
    this.newestApplied = read;
    this.apply(records);
  }

  private apply(records: SigningKeyRecord[]): void {
    const published = new Map<string, PublishedKey>();
    for (const r of records) {
      const existing = this.published.get(r.kid);
      published.set(r.kid, existing ?? { kid: r.kid, alg: r.algorithm, keyObject: createPublicKey({ key: r.publicJwk, format: 'jwk' }) });
    }
    const active = records.filter((r) => r.status === 'active');
    // The configured algorithm signs; during a change of SIGNING_ALGORITHM the newest active key of another one does.
    const chosen =
      active.find((r) => r.algorithm === this.config.signingAlgorithm) ??
      active.sort((a, b) => (b.activatedAt?.getTime() ?? 0) - (a.activatedAt?.getTime() ?? 0))[0];
    const signing =
      chosen === undefined
        ? undefined
        : this.signing?.kid === chosen.kid
          ? this.signing
          : { kid: chosen.kid, alg: chosen.algorithm, privateKey: this.encryption.decrypt(chosen.kid, chosen.encrypted) };

    // Active first, then pending, then retiring: the order a reader expects; verifiers pick by kid.
    const order = { active: 0, pending: 1, retiring: 2, retired: 3 } as const;
    const listed = [...records].sort((a, b) => order[a.status] - order[b.status] || a.createdAt.getTime() - b.createdAt.getTime());
    this.published = published;
    this.records = records;
    this.signing = signing;
    this.document = jwksDocument(listed);
  }
}

function jwksDocument(records: SigningKeyRecord[]): JwksDocument {
  const body = JSON.stringify({ keys: records.map((r) => ({ ...r.publicJwk, kid: r.kid, alg: r.algorithm, use: 'sig' })) });
  const algorithms = [...new Set(records.map((r) => r.algorithm))];
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, algorithms };
}
