import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readDraftLink, signDraftLink } from './draft-links.js';

const secret = randomBytes(32);
const now = new Date('2026-03-02T09:00:00Z');
const link = {
  workflowId: '7d1f3a52-5b0e-4c59-9a0d-2f1f4c1b9e11',
  draftVersion: 3,
  expiresAt: new Date('2026-03-03T10:00:00Z'),
};

describe('draft links', () => {
  it('reads back what it signed', () => {
    expect(readDraftLink(secret, signDraftLink(secret, link), now)).toEqual(link);
  });

  it('refuses a token signed with another secret, altered, or malformed', () => {
    const token = signDraftLink(secret, link);
    expect(readDraftLink(randomBytes(32), token, now)).toBeUndefined();
    const [body, mac] = token.split('.');
    const other = Buffer.from(`${link.workflowId}.4.${Math.floor(link.expiresAt.getTime() / 1000)}`).toString(
      'base64url',
    );
    expect(readDraftLink(secret, `${other}.${mac}`, now)).toBeUndefined();
    expect(readDraftLink(secret, `${body}.${mac!.slice(0, -2)}AA`, now)).toBeUndefined();
    for (const bad of ['', '.', 'abc', `${body}.${mac}.x`, `${body}`])
      expect(readDraftLink(secret, bad, now)).toBeUndefined();
  });

  it('says expired once the owner’s time (and the hour after) is over', () => {
    const token = signDraftLink(secret, link);
    expect(readDraftLink(secret, token, new Date('2026-03-03T09:59:59Z'))).toEqual(link);
    expect(readDraftLink(secret, token, new Date('2026-03-03T10:00:00Z'))).toBe('expired');
  });
});
