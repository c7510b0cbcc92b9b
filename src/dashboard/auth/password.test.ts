import { describe, expect, it } from 'vitest';
import { safeNext } from './auth-deps.js';
import {
  generatePassword,
  hashPassword,
  passwordProblem,
  verifyAgainstDummy,
  verifyPassword,
} from './password.js';

describe('passwords', () => {
  it('hashes with argon2id and verifies only the same password', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(hash, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse batter')).toBe(false);
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
    expect(await verifyAgainstDummy('anything')).toBe(false);
  });

  it('generates 20-character passwords without look-alike characters, all different', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const password = generatePassword();
      expect(password).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{20}$/);
      seen.add(password);
    }
    expect(seen.size).toBe(200);
  });

  it.each([
    ['short', 'max', 'at least 12'],
    ['x'.repeat(257), 'max', 'at most 256'],
    ['my-name-is-MAX-ok', 'max', 'username'],
    ['a perfectly fine one', 'max', undefined],
  ])('passwordProblem(%j) for %s', (password, username, problem) => {
    const found = passwordProblem(password, username);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});

describe('safeNext', () => {
  it.each([
    [undefined, '/dashboard'],
    ['/dashboard/plans?status=active', '/dashboard/plans?status=active'],
    ['https://evil.example/', '/dashboard'],
    ['//evil.example/dashboard', '/dashboard'],
    ['/dashboard\\@evil', '/dashboard'],
    ['/admin/tokens', '/dashboard'],
    ['/dashboard/login?next=/x', '/dashboard'],
    ['/dashboardx', '/dashboard'],
    ['/dashboard?x=1', '/dashboard?x=1'],
  ])('%s → %s', (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });
});
