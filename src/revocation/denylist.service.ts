import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { CredentialChanges } from '../auth/credential-changes.service';
import { Clock } from '../common/clock';
import { Scheduler } from '../common/scheduling/scheduler';
import { AppConfig } from '../config/app-config';
import { NotificationsService } from '../database/notifications.service';
import { MetricsService } from '../observability/metrics.service';
import { DenylistSnapshot, RevocationRepository } from './revocation.repository';
import { TenantKeyedMap } from './tenant-keyed-map';

export const DENYLIST_CHANNEL = 'tessera_denylist';

/**
 * What the database triggers send on `tessera_denylist` (see migrations 1764000004000 and
 * 1796119400000: `ts` is when the change was written, epoch milliseconds, for the propagation metric).
 */
export type DenylistNotification = (
  | { t: 'jti'; tenantId: string; jti: string; exp: number }
  | { t: 'sub'; tenantId: string; sub: string; nbf: number; exp: number }
  | { t: 'tenant'; tenantId: string; blocked: boolean }
  | { t: 'reload' }
) & { ts?: number };

export interface RevocationClaims {
  tenantId: string;
  jti?: string;
  sub?: string;
  iat?: number;
}

/**
 * The denylist in memory, in every replica: revoked jtis, subject cut-offs and blocked
 * tenants. Loaded at start, kept current by Postgres LISTEN/NOTIFY (within a second),
 * reloaded every DENYLIST_RELOAD_INTERVAL as a backstop, and expired rows are purged on the
 * same tick. While notifications do not arrive (NotificationsService's self-test) it is
 * reloaded every NOTIFY_FALLBACK_POLL_INTERVAL instead. `isRevoked` never touches the database.
 */
@Injectable()
export class DenylistService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Denylist');
  /** tenant → jti → expiry (epoch seconds). */
  private jtis = new TenantKeyedMap<number>();
  /** tenant → sub → [notBefore, expiry] (epoch seconds). */
  private cutoffs = new TenantKeyedMap<[number, number]>();
  private blockedTenants = new Set<string>();
  /** Notifications that arrive while a reload runs, replayed (in order) on top of its snapshot. */
  private pending?: DenylistNotification[];
  private reloading: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: RevocationRepository,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly notifications: NotificationsService,
    private readonly metrics: MetricsService,
    private readonly scheduler: Scheduler,
    changes: CredentialChanges,
  ) {
    // A tenant disabled, enabled or deleted by this replica holds on the next request here, not when its own NOTIFY
    // comes back (docs/adr/0017-revocation-propagation.md); other replicas still learn it from the denylist trigger.
    changes.subscribe((change) => {
      if (change.t === 'tenant' && change.blocked !== undefined)
        this.apply({ t: 'tenant', tenantId: change.tenantId, blocked: change.blocked });
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Fail the start rather than serve with an empty denylist. The listener reloads once more
    // when LISTEN is in place, which covers changes committed between this load and LISTEN.
    await this.reload();
    await this.notifications.listen(
      DENYLIST_CHANNEL,
      { applicationName: 'tessera-denylist', description: 'Revocation listener' },
      {
        onNotification: (payload) => this.onNotification(payload),
        onListening: () => this.reload(),
        poll: () => this.reload(),
      },
    );
    this.scheduler.every({
      name: 'Denylist backstop reload',
      intervalSeconds: this.config.denylistReloadIntervalSeconds,
      run: () => this.tick(),
    });
  }

  /** True when the jti is denylisted, the subject was cut off at or after `iat`, or the tenant is disabled/deleted. */
  isRevoked(claims: RevocationClaims): boolean {
    if (this.blockedTenants.has(claims.tenantId)) return true;
    const now = this.clock.nowSeconds();
    if (claims.jti !== undefined) {
      const exp = this.jtis.get(claims.tenantId, claims.jti);
      if (exp !== undefined) {
        if (exp > now) return true;
        this.jtis.delete(claims.tenantId, claims.jti);
      }
    }
    if (claims.sub !== undefined) {
      const cutoff = this.cutoffs.get(claims.tenantId, claims.sub);
      if (cutoff !== undefined) {
        if (cutoff[1] <= now) {
          this.cutoffs.delete(claims.tenantId, claims.sub);
        } else if (claims.iat === undefined || claims.iat <= cutoff[0]) {
          // iat has one-second resolution: a token issued in the very second of the cut-off
          // cannot be told apart from one issued just before it, so it counts as revoked.
          return true;
        }
      }
    }
    return false;
  }

  /** Applies a change made by this replica at once, without waiting for its own NOTIFY. */
  apply(change: DenylistNotification): void {
    this.pending?.push(change);
    switch (change.t) {
      case 'jti':
        this.jtis.set(change.tenantId, change.jti, Math.max(change.exp, this.jtis.get(change.tenantId, change.jti) ?? 0));
        return;
      case 'sub': {
        const known = this.cutoffs.get(change.tenantId, change.sub);
        this.cutoffs.set(change.tenantId, change.sub, [Math.max(change.nbf, known?.[0] ?? 0), Math.max(change.exp, known?.[1] ?? 0)]);
        return;
      }
      case 'tenant':
        if (change.blocked) this.blockedTenants.add(change.tenantId);
        else this.blockedTenants.delete(change.tenantId);
        return;
      case 'reload':
        void this.reload().catch((error: Error) => this.logger.warn(`Denylist reload failed: ${error.message}`));
        return;
    }
  }

  /** Replaces the in-memory copy with the database's, keeping changes that arrived meanwhile. Reloads run one at a time. */
  reload(): Promise<void> {
    const run = this.reloading.then(() => this.reloadNow());
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(): Promise<void> {
    const replay: DenylistNotification[] = [];
    this.pending = replay;
    let snapshot: DenylistSnapshot;
    try {
      snapshot = await this.repository.loadLive(this.clock.now());
    } finally {
      this.pending = undefined;
    }
    const jtis = new TenantKeyedMap<number>();
    for (const [tenantId, jti, exp] of snapshot.jtis) jtis.set(tenantId, jti, exp);
    const cutoffs = new TenantKeyedMap<[number, number]>();
    for (const [tenantId, sub, nbf, exp] of snapshot.cutoffs) cutoffs.set(tenantId, sub, [nbf, exp]);
    this.jtis = jtis;
    this.cutoffs = cutoffs;
    this.blockedTenants = new Set(snapshot.blockedTenants);
    for (const change of replay) if (change.t !== 'reload') this.apply(change);
  }

  /** The periodic job: purge expired rows (idempotent, any replica), then reload as a backstop. */
  async tick(): Promise<void> {
    const purged = await this.repository.purgeExpired(this.clock.now());
    if (purged.jtis + purged.cutoffs > 0) this.logger.log({ msg: 'Purged expired denylist rows', ...purged });
    await this.reload();
  }

  /** Sizes, for metrics and tests. */
  stats(): { jtis: number; cutoffs: number; blockedTenants: number; listening: boolean } {
    return {
      jtis: this.jtis.size,
      cutoffs: this.cutoffs.size,
      blockedTenants: this.blockedTenants.size,
      listening: this.notifications.isListening(DENYLIST_CHANNEL),
    };
  }

  private onNotification(payload: string): void {
    let change: DenylistNotification;
    try {
      change = JSON.parse(payload) as DenylistNotification;
    } catch {
      this.logger.warn('Ignored an unreadable denylist notification');
      return;
    }
    if (!change || typeof change !== 'object' || !['jti', 'sub', 'tenant', 'reload'].includes(change.t)) return;
    if (typeof change.ts === 'number') this.metrics.observeRevocationPropagation((Date.now() - change.ts) / 1000);
    this.apply(change);
  }
}
