/**
 * Map<tenantId, Map<key, V>>: measured 2.5× leaner than one Map keyed by `${tenantId}:${key}`
 * (85 vs 212 bytes per revoked UUID jti: no concatenated key string per entry) and 2× faster
 * to look up (no string to build per request). See docs/adr/0005-denylist.md.
 */
export class TenantKeyedMap<V> {
  private readonly byTenant = new Map<string, Map<string, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(tenantId: string, key: string): V | undefined {
    return this.byTenant.get(tenantId)?.get(key);
  }

  set(tenantId: string, key: string, value: V): void {
    let inner = this.byTenant.get(tenantId);
    if (!inner) this.byTenant.set(tenantId, (inner = new Map()));
    if (!inner.has(key)) this.count++;
    inner.set(key, value);
  }

  delete(tenantId: string, key: string): void {
    const inner = this.byTenant.get(tenantId);
    if (!inner?.delete(key)) return;
    this.count--;
    if (inner.size === 0) this.byTenant.delete(tenantId);
  }
}
