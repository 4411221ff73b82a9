import { claimConditionsProblem, unmetClaimCondition } from './claim-conditions';

const K8S = {
  sub: 'system:serviceaccount:ci:builder',
  'kubernetes.io': { namespace: 'ci', serviceaccount: { name: 'builder', uid: 'u-1' } },
  repository: 'acme/api',
  run_attempt: 1,
  'a/b': 'slash',
};

describe('claim conditions', () => {
  describe('unmetClaimCondition', () => {
    it('compares top-level and nested claims exactly', () => {
      expect(
        unmetClaimCondition(
          { repository: 'acme/api', 'kubernetes.io/namespace': 'ci', 'kubernetes.io/serviceaccount/name': 'builder' },
          K8S,
        ),
      ).toBeUndefined();
      expect(unmetClaimCondition({ 'kubernetes.io/namespace': 'prod' }, K8S)).toBe('kubernetes.io/namespace');
      expect(unmetClaimCondition({ repository: 'acme/api2' }, K8S)).toBe('repository');
    });

    it('never coerces types and treats a missing claim as unmet', () => {
      expect(unmetClaimCondition({ run_attempt: '1' }, K8S)).toBe('run_attempt');
      expect(unmetClaimCondition({ run_attempt: 1 }, K8S)).toBeUndefined();
      expect(unmetClaimCondition({ 'kubernetes.io/pod/name': 'x' }, K8S)).toBe('kubernetes.io/pod/name');
      expect(unmetClaimCondition({ 'sub/length': 32 }, K8S)).toBe('sub/length');
    });

    it('reads ~1 as a slash inside a member name', () => {
      expect(unmetClaimCondition({ 'a~1b': 'slash' }, K8S)).toBeUndefined();
    });
  });

  describe('claimConditionsProblem', () => {
    it('accepts strings, numbers and booleans; refuses objects, arrays, null and empty path members', () => {
      expect(claimConditionsProblem({ repository: 'acme/api', n: 1, b: true })).toBeUndefined();
      expect(claimConditionsProblem({ a: { b: 1 } })).toMatch(/string/);
      expect(claimConditionsProblem({ a: ['x'] })).toMatch(/string/);
      expect(claimConditionsProblem({ a: null })).toMatch(/string/);
      expect(claimConditionsProblem({ 'a//b': 'x' })).toMatch(/non-empty members/);
      expect(claimConditionsProblem([])).toMatch(/object/);
    });
  });
});
