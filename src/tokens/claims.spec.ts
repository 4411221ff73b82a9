import { customClaimsProblem, MAX_CUSTOM_CLAIMS_BYTES, RESERVED_CLAIMS } from './claims';

describe('customClaimsProblem', () => {
  it('names every reserved claim that is set', () => {
    for (const name of RESERVED_CLAIMS) expect(customClaimsProblem({ ok: 1, [name]: 'x' })).toContain(`"${name}"`);
    expect(customClaimsProblem({ iss: 1, sub: 2 })).toMatch(/"iss", "sub"/);
  });

  it('caps the size of the claims as JSON, counting bytes not characters', () => {
    expect(customClaimsProblem({ a: 'x'.repeat(MAX_CUSTOM_CLAIMS_BYTES - 10) })).toBeUndefined();
    expect(customClaimsProblem({ a: 'x'.repeat(MAX_CUSTOM_CLAIMS_BYTES) })).toMatch(/at most 4096 bytes/);
    expect(customClaimsProblem({ a: 'é'.repeat(MAX_CUSTOM_CLAIMS_BYTES / 2) })).toMatch(/at most/);
  });

  it('accepts ordinary claims', () => {
    expect(customClaimsProblem({ groupRef: 'g', roles: ['a'], nested: { iss: 'fine inside' } })).toBeUndefined();
  });
});
