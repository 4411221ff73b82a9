import { subjectMatches, subjectPatternProblem } from './subject-pattern';

describe('subject patterns', () => {
  describe('subjectMatches', () => {
    it('matches an exact subject only exactly', () => {
      expect(subjectMatches('system:serviceaccount:ci:builder', 'system:serviceaccount:ci:builder')).toBe(true);
      expect(subjectMatches('system:serviceaccount:ci:builder', 'system:serviceaccount:ci:builder2')).toBe(false);
    });

    it('matches a trailing * as a prefix, and nothing before the prefix', () => {
      expect(subjectMatches('system:serviceaccount:ci:*', 'system:serviceaccount:ci:builder')).toBe(true);
      expect(subjectMatches('system:serviceaccount:ci:*', 'system:serviceaccount:ci:')).toBe(true);
      expect(subjectMatches('system:serviceaccount:ci:*', 'system:serviceaccount:cix:builder')).toBe(false);
      expect(subjectMatches('system:serviceaccount:ci:*', 'system:serviceaccount:ci')).toBe(false);
    });

    it('reads \\* at the end as a literal star', () => {
      expect(subjectMatches('a\\*', 'a*')).toBe(true);
      expect(subjectMatches('a\\*', 'ab')).toBe(false);
    });
  });

  describe('subjectPatternProblem', () => {
    it('refuses a star elsewhere than at the end, and a bare star', () => {
      expect(subjectPatternProblem('system:*:ci')).toMatch(/last character/);
      expect(subjectPatternProblem('a**')).toMatch(/last character/);
      expect(subjectPatternProblem('*')).toMatch(/non-empty prefix/);
      expect(subjectPatternProblem('repo:acme/api:*')).toBeUndefined();
      expect(subjectPatternProblem('repo:acme/api:ref:refs/heads/main')).toBeUndefined();
    });
  });
});
