import { describe, expect, it } from 'vitest';
import type { IncomingEmail } from '../peers/email/email-port.js';
import {
  isAutomatedAddress,
  matchesAddressList,
  skipReason,
  SKIP_REASONS,
  type SkipContext,
  type SkipReason,
} from './skip-rules.js';

function email(
  overrides: { from?: string; name?: string; headers?: Record<string, string> } = {},
): IncomingEmail {
  return {
    messageId: '<m1@example.com>',
    from: { address: overrides.from ?? 'john@example.com', name: overrides.name ?? 'John' },
    to: [{ address: 'owner@mine.test' }],
    subject: 'Meeting tomorrow at 2pm?',
    text: 'Can we meet tomorrow at 2pm?',
    headers: overrides.headers ?? {},
    references: [],
    receivedAt: new Date('2025-01-15T10:00:00Z'),
    source: 'ingest',
  };
}

const ctx: SkipContext = {
  ownerAddress: 'owner@mine.test',
  allow: [],
  deny: [],
  repliedInThreadWithin24h: false,
};

describe('skipReason: one case per class', () => {
  it.each<[string, IncomingEmail, Partial<SkipContext>, SkipReason]>([
    ['our marker header', email({ headers: { 'x-countersign-reply': 'yes' } }), {}, 'own_marker'],
    ['our marker header, any value', email({ headers: { 'x-countersign-reply': '' } }), {}, 'own_marker'],
    ['from the owner', email({ from: 'owner@mine.test' }), {}, 'own_address'],
    ['from the owner, other case and spaces', email({ from: ' Owner@MINE.test ' }), {}, 'own_address'],
    ['no From address', email({ from: '' }), {}, 'no_sender'],
    ['From without a domain', email({ from: 'john' }), {}, 'no_sender'],
    ['denied address', email(), { deny: ['john@example.com'] }, 'deny_list'],
    ['denied domain', email(), { deny: ['@example.com'] }, 'deny_list'],
    ['denied bare domain', email(), { deny: ['EXAMPLE.com'] }, 'deny_list'],
    [
      'Auto-Submitted: auto-replied',
      email({ headers: { 'auto-submitted': 'auto-replied' } }),
      {},
      'auto_submitted',
    ],
    [
      'Auto-Submitted: auto-generated',
      email({ headers: { 'auto-submitted': 'auto-generated' } }),
      {},
      'auto_submitted',
    ],
    [
      'Auto-Submitted with parameters',
      email({ headers: { 'auto-submitted': 'auto-replied; owner-email="a@b.c"' } }),
      {},
      'auto_submitted',
    ],
    ['Auto-Submitted: empty value', email({ headers: { 'auto-submitted': '' } }), {}, 'auto_submitted'],
    ['Precedence: bulk', email({ headers: { precedence: 'bulk' } }), {}, 'precedence_bulk'],
    ['Precedence: JUNK', email({ headers: { precedence: 'JUNK' } }), {}, 'precedence_bulk'],
    ['Precedence: list', email({ headers: { precedence: ' list ' } }), {}, 'precedence_bulk'],
    ['List-Id', email({ headers: { 'list-id': '<team.lists.example.com>' } }), {}, 'mailing_list'],
    [
      'List-Unsubscribe',
      email({ headers: { 'list-unsubscribe': '<mailto:unsub@example.com>' } }),
      {},
      'mailing_list',
    ],
    ['Return-Path: <>', email({ headers: { 'return-path': '<>' } }), {}, 'null_return_path'],
    ['Return-Path: < >', email({ headers: { 'return-path': '< >' } }), {}, 'null_return_path'],
    ['MAILER-DAEMON', email({ from: 'MAILER-DAEMON@mx.example.com' }), {}, 'automated_sender'],
    ['postmaster', email({ from: 'postmaster@example.com' }), {}, 'automated_sender'],
    ['noreply', email({ from: 'noreply@example.com' }), {}, 'automated_sender'],
    ['no-reply', email({ from: 'no-reply@example.com' }), {}, 'automated_sender'],
    ['no_reply with a tag', email({ from: 'no_reply+123@example.com' }), {}, 'automated_sender'],
    ['do-not-reply', email({ from: 'do-not-reply@example.com' }), {}, 'automated_sender'],
    ['donotreply', email({ from: 'DoNotReply@example.com' }), {}, 'automated_sender'],
    ['billing-noreply', email({ from: 'billing-noreply@example.com' }), {}, 'automated_sender'],
    ['noreply.notifications', email({ from: 'noreply.notifications@example.com' }), {}, 'automated_sender'],
    [
      'a noreply Reply-To',
      email({ headers: { 'reply-to': 'Billing <noreply@example.com>' } }),
      {},
      'automated_sender',
    ],
    [
      'X-Auto-Response-Suppress: All',
      email({ headers: { 'x-auto-response-suppress': 'All' } }),
      {},
      'auto_response_suppress',
    ],
    [
      'X-Auto-Response-Suppress: OOF, AutoReply',
      email({ headers: { 'x-auto-response-suppress': 'OOF, AutoReply' } }),
      {},
      'auto_response_suppress',
    ],
    [
      'X-Auto-Response-Suppress: DR, AutoReply',
      email({ headers: { 'x-auto-response-suppress': 'DR, AutoReply' } }),
      {},
      'auto_response_suppress',
    ],
    [
      'X-Auto-Response-Suppress: an unknown token',
      email({ headers: { 'x-auto-response-suppress': 'Everything' } }),
      {},
      'auto_response_suppress',
    ],
    ['not on the allow list', email(), { allow: ['ann@example.com'] }, 'not_in_allow_list'],
    ['not in an allowed domain', email(), { allow: ['@other.test'] }, 'not_in_allow_list'],
    ['replied in this thread today', email(), { repliedInThreadWithin24h: true }, 'thread_replied_today'],
  ])('%s', (_name, mail, overrides, expected) => {
    expect(skipReason(mail, { ...ctx, ...overrides })).toBe(expected);
  });
});

describe('skipReason: negatives (answered)', () => {
  it.each<[string, IncomingEmail, Partial<SkipContext>]>([
    ['a plain email', email(), {}],
    ['Auto-Submitted: no', email({ headers: { 'auto-submitted': 'no' } }), {}],
    ['Auto-Submitted: NO with a comment', email({ headers: { 'auto-submitted': ' No ; by hand' } }), {}],
    ['Precedence: first-class', email({ headers: { precedence: 'first-class' } }), {}],
    ['Precedence: urgent', email({ headers: { precedence: 'urgent' } }), {}],
    ['a real Return-Path', email({ headers: { 'return-path': '<john@example.com>' } }), {}],
    ['noreply inside a word', email({ from: 'snoreply@example.com' }), {}],
    ['noreply as a prefix of a word', email({ from: 'noreplyhelp@example.com' }), {}],
    ['postmaster inside a word', email({ from: 'postmasters-guild@example.com' }), {}],
    ['noreply in the domain only', email({ from: 'john@noreply.example.com' }), {}],
    ['noreply in the display name only', email({ from: 'john@example.com', name: 'noreply' }), {}],
    ['a normal Reply-To', email({ headers: { 'reply-to': 'John <john.private@example.org>' } }), {}],
    ['X-Auto-Response-Suppress: None', email({ headers: { 'x-auto-response-suppress': 'None' } }), {}],
    [
      'X-Auto-Response-Suppress: receipts only',
      email({ headers: { 'x-auto-response-suppress': 'DR, RN, NRN, NDR' } }),
      {},
    ],
    ['X-Auto-Response-Suppress: empty', email({ headers: { 'x-auto-response-suppress': '' } }), {}],
    ['on the allow list', email(), { allow: ['John@Example.com'] }],
    ['in an allowed domain', email(), { allow: ['@example.com'] }],
    ['an empty allow list admits everyone', email(), { allow: [] }],
    ['deny list names someone else', email(), { deny: ['ann@example.com', '@spam.test'] }],
    ['a denied subdomain does not cover the parent', email(), { deny: ['@mail.example.com'] }],
    ['no owner address configured', email({ from: 'owner@mine.test' }), { ownerAddress: undefined }],
    ['an empty owner address', email(), { ownerAddress: '' }],
    ['a thread replied to more than a day ago', email(), { repliedInThreadWithin24h: false }],
  ])('%s', (_name, mail, overrides) => {
    expect(skipReason(mail, { ...ctx, ...overrides })).toBeUndefined();
  });
});

describe('skipReason: order', () => {
  // Every rule matches this email; removing the first matching cause each time walks the order.
  const everything = {
    'x-countersign-reply': 'yes',
    'auto-submitted': 'auto-replied',
    precedence: 'bulk',
    'list-id': '<l.example.com>',
    'return-path': '<>',
    'x-auto-response-suppress': 'All',
  };

  it('the first rule that applies names the reason, in the documented order', () => {
    const steps: [SkipReason, () => [IncomingEmail, SkipContext]][] = [
      [
        'own_marker',
        () => [email({ from: 'owner@mine.test', headers: everything }), { ...ctx, deny: ['@mine.test'] }],
      ],
      [
        'own_address',
        () => [email({ from: 'owner@mine.test', headers: without(everything, 'x-countersign-reply') }), ctx],
      ],
      [
        'deny_list',
        () => [
          email({ from: 'noreply@example.com', headers: without(everything, 'x-countersign-reply') }),
          { ...ctx, deny: ['@example.com'], allow: ['x@y.z'], repliedInThreadWithin24h: true },
        ],
      ],
      [
        'auto_submitted',
        () => [
          email({ from: 'noreply@example.com', headers: without(everything, 'x-countersign-reply') }),
          ctx,
        ],
      ],
      [
        'precedence_bulk',
        () => [email({ headers: without(everything, 'x-countersign-reply', 'auto-submitted') }), ctx],
      ],
      [
        'mailing_list',
        () => [
          email({ headers: without(everything, 'x-countersign-reply', 'auto-submitted', 'precedence') }),
          ctx,
        ],
      ],
      [
        'null_return_path',
        () => [
          email({
            from: 'noreply@example.com',
            headers: without(everything, 'x-countersign-reply', 'auto-submitted', 'precedence', 'list-id'),
          }),
          ctx,
        ],
      ],
      [
        'automated_sender',
        () => [
          email({ from: 'noreply@example.com', headers: { 'x-auto-response-suppress': 'All' } }),
          { ...ctx, allow: ['x@y.z'] },
        ],
      ],
      [
        'auto_response_suppress',
        () => [email({ headers: { 'x-auto-response-suppress': 'All' } }), { ...ctx, allow: ['x@y.z'] }],
      ],
      ['not_in_allow_list', () => [email(), { ...ctx, allow: ['x@y.z'], repliedInThreadWithin24h: true }]],
      ['thread_replied_today', () => [email(), { ...ctx, repliedInThreadWithin24h: true }]],
    ];
    for (const [reason, make] of steps) {
      const [mail, context] = make();
      expect(skipReason(mail, context), reason).toBe(reason);
    }
  });

  it('the reasons are stable snake_case codes', () => {
    for (const reason of SKIP_REASONS) expect(reason).toMatch(/^[a-z]+(?:_[a-z0-9]+)*$/);
    expect(new Set(SKIP_REASONS).size).toBe(SKIP_REASONS.length);
  });
});

describe('matchesAddressList', () => {
  it.each([
    ['ann@example.com', ['ann@example.com'], true],
    ['ANN@example.com', ['ann@EXAMPLE.com'], true],
    ['ann@example.com', ['@example.com'], true],
    ['ann@example.com', ['example.com'], true],
    ['ann@example.com', [' @example.com '], true],
    ['ann@mail.example.com', ['@example.com'], false],
    ['ann@example.com.evil.test', ['@example.com'], false],
    ['ann@example.com', ['bob@example.com'], false],
    ['ann@example.com', ['nn@example.com'], false],
    ['ann@example.com', ['', '@'], false],
    ['ann@example.com', [], false],
  ] as const)('%s in %j → %s', (address, list, expected) => {
    expect(matchesAddressList(address, list)).toBe(expected);
  });
});

describe('isAutomatedAddress', () => {
  it.each([
    ['noreply@x.test', true],
    ['no.reply@x.test', true],
    ['mailer_daemon@x.test', true],
    ['alerts+noreply@x.test', true],
    ['replyno@x.test', false],
    ['norep@x.test', false],
    ['john.noreplying@x.test', false],
    ['', false],
  ] as const)('%j → %s', (address, expected) => {
    expect(isAutomatedAddress(address)).toBe(expected);
  });
});

function without(headers: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name)));
}
