import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AuditEvent, AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { Scheduler } from '../common/scheduling/scheduler';
import { AppConfig } from '../config/app-config';
import { NotificationsService } from '../database/notifications.service';
import { KeyEncryption } from './key-encryption';
import { generateSigningKey } from './key-generation';
import { KeysService } from './keys.service';
import { KEYS_CHANNEL, SigningKeyStatus, SigningKeysRepository, SigningKeysTransaction } from './signing-keys.repository';

/** Who asked for a change, for the audit log. */
export interface Requester {
  actor: string;
  requestId?: string;
}

const SYSTEM: Requester = { actor: 'system' };

type KeyEvent = Omit<AuditEvent, 'tenantId' | 'actor' | 'requestId'>;

export interface RotationResult {
  kid: string;
  status: SigningKeyStatus;
  activatesAt: string;
  /** False when a rotation was already pending and its key is returned. */
  isNew: boolean;
}

/**
 * The key lifecycle: pending (published, not signing) → active → retiring (published until
 * its tokens expire) → retired. Every change runs in one transaction under a Postgres
 * advisory lock, so with several replicas exactly one performs it; each replica then reloads
 * the key set (periodically, and at once on NOTIFY, or every NOTIFY_FALLBACK_POLL_INTERVAL
 * while notifications do not arrive).
 */
@Injectable()
export class KeyRotationService implements OnModuleInit {
  private readonly logger = new Logger('SigningKeys');

  constructor(
    private readonly repository: SigningKeysRepository,
    private readonly keys: KeysService,
    private readonly encryption: KeyEncryption,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly notifications: NotificationsService,
    private readonly scheduler: Scheduler,
  ) {}

  async onModuleInit(): Promise<void> {
    // Waits for the lock: on a first start with several replicas, one creates the key and the others find it.
    await this.locked(true, SYSTEM, (tx, events) => this.advance(tx, events));
    await this.reencryptStaleKeys();
    // Decrypts the signing key: a wrong KEY_ENCRYPTION_KEY stops start-up here, with one line.
    await this.keys.reload();
    this.scheduler.every({ name: 'Key check', intervalSeconds: this.config.keyCheckIntervalSeconds, run: () => this.check() });
    // Another replica's change (an emergency rotation above all) reaches this one within a second.
    await this.notifications.listen(
      KEYS_CHANNEL,
      { applicationName: 'tessera-keys', description: 'Key listener' },
      {
        onNotification: () => void this.reload(),
        onListening: () => this.keys.reload(),
        poll: () => this.keys.reload(),
      },
    );
  }

  private async reload(): Promise<void> {
    try {
      await this.keys.reload();
    } catch (error) {
      this.logger.warn(`Key reload failed, retrying in ${this.config.keyCheckIntervalSeconds} s: ${(error as Error).message}`);
    }
  }

  /** The periodic step: due transitions (when this replica gets the lock), then a reload. */
  async check(): Promise<void> {
    try {
      await this.tick();
      await this.keys.reload();
    } catch (error) {
      this.logger.warn(`Key check failed, retrying in ${this.config.keyCheckIntervalSeconds} s: ${(error as Error).message}`);
    }
  }

  /** Runs the transitions that are due, unless another replica is doing so right now. */
  async tick(): Promise<void> {
    await this.locked(false, SYSTEM, (tx, events) => this.advance(tx, events));
  }

  /**
   * A rotation by hand. Normally the new key is published now and signs after
   * KEY_PUBLISH_DELAY (a rotation already pending is returned, not doubled). `immediate`
   * is the emergency path for a compromised key: the active and pending keys are retired
   * at once (their tokens stop verifying) and a new key signs from now on.
   */
  async rotate(immediate: boolean, requester: Requester = SYSTEM): Promise<RotationResult> {
    const result = await this.locked(true, requester, async (tx, events) => {
      const now = this.clock.now();
      if (immediate) {
        const retired = await tx.retireSigningKeysNow(now);
        const kid = await this.createKey(tx, now, 'active');
        this.logger.warn(`Emergency rotation: retired ${retired.join(', ') || 'no key'}; ${kid} signs from now on`);
        events.push({
          type: 'signing_key.emergency_rotation',
          subject: kid,
          details: { algorithm: this.config.signingAlgorithm, retired },
        });
        return { kid, status: 'active' as const, activatesAt: now.toISOString(), isNew: true };
      }
      await this.advance(tx, events);
      const pending = (await tx.listPublished()).find((k) => k.status === 'pending' && k.algorithm === this.config.signingAlgorithm);
      if (pending) return { kid: pending.kid, status: pending.status, activatesAt: pending.activatesAt.toISOString(), isNew: false };
      const kid = await this.createKey(tx, now, 'pending');
      events.push({
        type: 'signing_key.created',
        subject: kid,
        details: { algorithm: this.config.signingAlgorithm, reason: 'rotation requested' },
      });
      // With KEY_PUBLISH_DELAY=0 the new key is due at once.
      await this.advance(tx, events);
      const created = (await tx.listPublished()).find((k) => k.kid === kid)!;
      return { kid, status: created.status, activatesAt: created.activatesAt.toISOString(), isNew: true };
    });
    await this.keys.reload();
    return result!;
  }

  /**
   * One lifecycle change under the advisory lock; the audit events it collects are written
   * once the transaction has committed (a rolled-back change leaves no trace).
   */
  private async locked<T>(
    wait: boolean,
    requester: Requester,
    work: (tx: SigningKeysTransaction, events: KeyEvent[]) => Promise<T>,
  ): Promise<T | undefined> {
    const events: KeyEvent[] = [];
    const result = await this.repository.withLifecycleLock(wait, (tx) => work(tx, events));
    for (const event of events)
      await this.audit.record({ ...event, tenantId: null, actor: requester.actor, requestId: requester.requestId });
    return result;
  }

  private async advance(tx: SigningKeysTransaction, events: KeyEvent[]): Promise<void> {
    const now = this.clock.now();
    const retired = await tx.retireDue(now);
    if (retired.length > 0) this.logger.log(`Key(s) ${retired.join(', ')} retired: every token they signed has expired`);
    for (const kid of retired) events.push({ type: 'signing_key.retired', subject: kid });

    const due = (await tx.listPublished()).filter((k) => k.status === 'pending' && k.activatesAt <= now);
    for (const key of due.sort((a, b) => a.activatesAt.getTime() - b.activatesAt.getTime())) {
      const retireAt = new Date(now.getTime() + (await this.retentionSeconds(tx)) * 1000);
      const retiring = await tx.activate(key.kid, now, retireAt);
      this.logger.log(`Key ${key.kid} (${key.algorithm}) is now active; the previous key is retiring until ${retireAt.toISOString()}`);
      events.push({
        type: 'signing_key.activated',
        subject: key.kid,
        details: { algorithm: key.algorithm, retiring, retireAt: retireAt.toISOString() },
      });
    }

    const keys = await tx.listPublished();
    const alg = this.config.signingAlgorithm;
    const active = keys.find((k) => k.status === 'active' && k.algorithm === alg);
    const pending = keys.find((k) => k.status === 'pending' && k.algorithm === alg);
    if (!active && !pending) {
      // The very first key signs at once (nobody can have cached a JWKS yet); a change of
      // SIGNING_ALGORITHM publishes the new key first, like any rotation.
      const isFirst = !keys.some((k) => k.status === 'active');
      const kid = await this.createKey(tx, now, isFirst ? 'active' : 'pending');
      this.logger.log(`Created ${isFirst ? 'the first signing key' : 'a pending key for the new algorithm'} ${kid} (${alg})`);
      events.push({
        type: 'signing_key.created',
        subject: kid,
        details: { algorithm: alg, reason: isFirst ? 'first key' : 'algorithm change' },
      });
      return;
    }
    const interval = this.config.keyRotationIntervalSeconds;
    const delay = this.config.keyPublishDelaySeconds;
    // Scheduled rotation: publish the next key early enough that it is active when the interval ends.
    if (interval > 0 && active && !pending && active.activatedAt!.getTime() + (interval - delay) * 1000 <= now.getTime()) {
      const kid = await this.createKey(tx, now, 'pending');
      this.logger.log(`Scheduled rotation: key ${kid} (${alg}) published, signs in ${delay} s`);
      events.push({ type: 'signing_key.created', subject: kid, details: { algorithm: alg, reason: 'scheduled rotation' } });
    }
  }

  private async createKey(tx: SigningKeysTransaction, now: Date, status: 'active' | 'pending'): Promise<string> {
    const key = await generateSigningKey(this.config.signingAlgorithm);
    const activatesAt = status === 'active' ? now : new Date(now.getTime() + this.config.keyPublishDelaySeconds * 1000);
    await tx.insert({
      kid: key.kid,
      algorithm: key.algorithm,
      status,
      publicJwk: key.publicJwk,
      encrypted: this.encryption.encrypt(key.kid, key.privateKey),
      createdAt: now,
      activatesAt,
    });
    return key.kid;
  }

  /** How long a retiring key stays published: the longest access-token lifetime plus the clock tolerance. */
  private async retentionSeconds(tx: SigningKeysTransaction): Promise<number> {
    const longest = Math.max(this.config.accessTokenTtlSeconds, await tx.longestTenantTokenTtl());
    return longest + this.config.clockToleranceSeconds;
  }

  /** After a KEY_ENCRYPTION_KEY change, rewrites keys still encrypted under a previous one. */
  private async reencryptStaleKeys(): Promise<void> {
    await this.repository.withLifecycleLock(true, async (tx) => {
      for (const key of await tx.listPublished()) {
        if (!this.encryption.isStale(key.encrypted)) continue;
        const privateKey = this.encryption.decrypt(key.kid, key.encrypted);
        await tx.reencrypt(key.kid, this.encryption.encrypt(key.kid, privateKey));
        this.logger.log(`Key ${key.kid} re-encrypted under the current KEY_ENCRYPTION_KEY`);
      }
    });
  }
}
