import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countSegments, fitsBudget } from '../peers/sms/segments.js';
import {
  COMMAND_LINE,
  formatConfirmation,
  formatOwnerSms,
  gistOf,
  senderLabel,
  type OwnerSmsInput,
} from './owner-sms.js';

const URL = 'https://cs.example.com/drafts/Zx9fK2mQ7bLp4sT8vW1yR3nA';
const LONG_DRAFT =
  'Thanks for the invite, but I am not feeling well tomorrow. Could we move the meeting to Thursday at ' +
  'the same time? I will bring the figures we discussed last week, and the draft contract as well, so ' +
  'that we can go through everything in one go. Best, Ann';

const base: OwnerSmsInput = {
  senderName: 'John',
  senderAddress: 'john@example.com',
  subject: 'Meeting tomorrow at 2pm?',
  draft: 'Yes, 2pm works. See you then!',
  maxSegments: 3,
};

describe('formatOwnerSms: the seed format', () => {
  it('renders the seed’s own example exactly', () => {
    const sms = formatOwnerSms(base);
    expect(sms).toEqual({
      text: '📧 John: Meeting tomorrow at 2pm?\nDraft: Yes, 2pm works. See you then!\n1=Send 2=Edit 3=Ignore',
      truncated: false,
      needsLink: false,
    });
    // the 📧 forces UCS-2: 93 units are two segments of 67
    expect(countSegments(sms.text)).toEqual({ encoding: 'ucs2', units: 93, segments: 2, perSegment: 67 });
  });

  it('renders the seed’s redraft example exactly', () => {
    const sms = formatOwnerSms({
      ...base,
      draft: "Thanks for the invite, but I'm not feeling well tomorrow. Can we reschedule?",
    });
    expect(sms.text).toBe(
      "📧 John: Meeting tomorrow at 2pm?\nDraft: Thanks for the invite, but I'm not feeling well tomorrow. Can we reschedule?\n1=Send 2=Edit 3=Ignore",
    );
    expect(countSegments(sms.text).segments).toBe(3);
  });

  it.each([
    [
      'no display name: the address',
      { senderName: undefined },
      '📧 john@example.com: Meeting tomorrow at 2pm?',
    ],
    ['a quoted display name', { senderName: '"John Smith"' }, '📧 John Smith: Meeting tomorrow at 2pm?'],
    ['a blank display name', { senderName: '  ' }, '📧 john@example.com: Meeting tomorrow at 2pm?'],
    ['no subject: the gist', { subject: '  ', gist: 'Can we meet at 2?' }, '📧 John: Can we meet at 2?'],
    ['no subject, no gist', { subject: '', gist: undefined }, '📧 John: (no subject)'],
    ['a folded subject', { subject: 'Meeting\n  tomorrow' }, '📧 John: Meeting tomorrow'],
  ])('%s', (_name, overrides, firstLine) => {
    expect(formatOwnerSms({ ...base, ...overrides }).text.split('\n')[0]).toBe(firstLine);
  });

  it('keeps the draft’s own line breaks, trimmed at the ends', () => {
    const sms = formatOwnerSms({ ...base, draft: '\nHi John,\n\nYes.\n' });
    expect(sms.text).toBe(
      '📧 John: Meeting tomorrow at 2pm?\nDraft: Hi John,\n\nYes.\n1=Send 2=Edit 3=Ignore',
    );
  });

  it('uses the whole budget at the boundary: 201 units fit in three segments, 202 do not', () => {
    // header (33 units) + "\nDraft: " (8) + draft + "\n1=Send 2=Edit 3=Ignore" (23) = 64 + draft
    const fitting = formatOwnerSms({ ...base, draft: 'a'.repeat(201 - 64), draftUrl: URL });
    expect(countSegments(fitting.text)).toMatchObject({ units: 201, segments: 3 });
    expect(fitting.needsLink).toBe(false);
    const over = formatOwnerSms({ ...base, draft: 'a'.repeat(202 - 64), draftUrl: URL });
    expect(over.needsLink).toBe(true);
    expect(over.text).toContain(URL);
  });

  it('shortens a long subject before giving up on the whole draft', () => {
    const subject = 'Re: the quarterly planning meeting agenda, the budget figures and the venue';
    const sms = formatOwnerSms({ ...base, subject, draft: 'a'.repeat(120) });
    expect(sms.needsLink).toBe(false);
    expect(sms.text.split('\n')[0]).toBe('📧 John: Re: the quarterly planning meeting…');
    expect(sms.text).toContain(`Draft: ${'a'.repeat(120)}`);
  });
});

describe('formatOwnerSms: the link form', () => {
  it('three segments: header, link, the draft’s beginning, the commands', () => {
    const sms = formatOwnerSms({ ...base, draft: LONG_DRAFT, draftUrl: URL });
    expect(sms).toEqual({
      text:
        '📧 John: Meeting tomorrow at 2pm?\n' +
        `Draft: ${URL}\n` +
        'Thanks for the invite, but I am not feeling well tomorrow. Could we move the…\n' +
        '1=Send 2=Edit 3=Ignore',
      truncated: false,
      needsLink: true,
    });
    expect(countSegments(sms.text)).toEqual({ encoding: 'ucs2', units: 196, segments: 3, perSegment: 67 });
  });

  it('two segments: no room for a useful preview, so the link alone', () => {
    const sms = formatOwnerSms({ ...base, draft: LONG_DRAFT, draftUrl: URL, maxSegments: 2 });
    expect(sms.text).toBe(`📧 John: Meeting tomorrow at 2pm?\nDraft: ${URL}\n1=Send 2=Edit 3=Ignore`);
    expect(countSegments(sms.text)).toMatchObject({ units: 118, segments: 2 });
  });

  it('one segment: the icon goes, so the text is GSM-7 and the link fits with a preview', () => {
    const sms = formatOwnerSms({ ...base, draft: LONG_DRAFT, draftUrl: URL, maxSegments: 1 });
    expect(sms.text).toBe(
      `John: Meeting tomorrow at 2pm?\nDraft: ${URL}\nThanks for the invite, but I am not...\n1=Send 2=Edit 3=Ignore`,
    );
    expect(countSegments(sms.text)).toEqual({ encoding: 'gsm7', units: 154, segments: 1, perSegment: 160 });
  });

  it.each([1, 2, 3, 4, 5, 6, 10])('always within %i segment(s), always with the link and commands', (max) => {
    const sms = formatOwnerSms({ ...base, draft: LONG_DRAFT.repeat(3), draftUrl: URL, maxSegments: max });
    expect(fitsBudget(sms.text, max)).toBe(true);
    expect(sms.text).toContain(`Draft: ${URL}`);
    expect(sms.text.endsWith(`\n${COMMAND_LINE}`)).toBe(true);
    expect(sms).toMatchObject({ truncated: false, needsLink: true });
  });

  it('a non-GSM draft (curly quote) keeps the budget too', () => {
    const draft = `I’m ${LONG_DRAFT}`;
    const sms = formatOwnerSms({ ...base, draft, draftUrl: URL, maxSegments: 3 });
    expect(fitsBudget(sms.text, 3)).toBe(true);
    expect(sms.text).toContain('I’m Thanks');
  });

  it('a very long sender and subject are shortened, never the link', () => {
    const sms = formatOwnerSms({
      ...base,
      senderName: 'Johnathan Bartholomew Fitzgerald-Worthington III',
      subject: 'x'.repeat(300),
      draft: LONG_DRAFT,
      draftUrl: URL,
      maxSegments: 2,
    });
    expect(fitsBudget(sms.text, 2)).toBe(true);
    expect(sms.text).toContain(URL);
  });

  it('property: with a link the text fits any budget of 1–10 and shows the draft or its link', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 800 }),
        fc.string({ maxLength: 120 }),
        fc.integer({ min: 1, max: 10 }),
        (draft, subject, max) => {
          fc.pre(draft.trim() !== '');
          const sms = formatOwnerSms({ ...base, subject, draft, draftUrl: URL, maxSegments: max });
          expect(fitsBudget(sms.text, max)).toBe(true);
          expect(sms.truncated).toBe(false);
          if (sms.needsLink) expect(sms.text).toContain(URL);
          else expect(sms.text).toContain(draft.trim());
        },
      ),
    );
  });
});

describe('formatOwnerSms: no link to give', () => {
  it('marks the cut in the text and reports it', () => {
    const sms = formatOwnerSms({ ...base, draft: LONG_DRAFT });
    expect(sms.truncated).toBe(true);
    expect(sms.needsLink).toBe(true);
    expect(sms.text).toContain('\nDraft (cut): Thanks for the invite');
    expect(sms.text).toMatch(/…\n1=Send 2=Edit 3=Ignore$/);
    expect(countSegments(sms.text).segments).toBe(3);
  });

  it('a draft that fits needs no link and is not cut', () => {
    expect(formatOwnerSms(base)).toMatchObject({ truncated: false, needsLink: false });
  });
});

describe('gistOf', () => {
  it.each([
    ['short enough', 'Hello there', 20, 'Hello there'],
    ['exactly at the limit', 'Hello there', 11, 'Hello there'],
    ['whitespace collapsed', '  Hello \n\n there  ', 20, 'Hello there'],
    ['cut at a word boundary', 'Hello there wonderful world', 15, 'Hello there…'],
    ['cut exactly before a space', 'Hello there wonderful world', 12, 'Hello there…'],
    ['a long word is cut inside', 'Supercalifragilistic', 10, 'Supercali…'],
    ['far word boundary is not used', 'Hi extraordinarily', 12, 'Hi extraord…'],
    ['trailing punctuation dropped', 'Yes, of course. Tomorrow works', 16, 'Yes, of course…'],
    ['an emoji is never split', '😀😀😀😀', 3, '😀😀…'],
    ['one character', 'Hello', 1, '…'],
    ['zero', 'Hello', 0, ''],
    ['empty text', '', 5, ''],
  ])('%s', (_name, text, max, expected) => {
    expect(gistOf(text, max)).toBe(expected);
  });

  it('with a GSM-7 ellipsis', () => {
    expect(gistOf('Hello there wonderful world', 15, '...')).toBe('Hello there...');
    expect(gistOf('Hello', 2, '...')).toBe('..');
  });

  it('property: never longer than maxChars code points; a cut always shows', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.integer({ min: 0, max: 200 }), (text, max) => {
        const gist = gistOf(text, max);
        expect([...gist].length).toBeLessThanOrEqual(max);
        if (gist !== text.replace(/\s+/g, ' ').trim() && max > 0) expect(gist.endsWith('…')).toBe(true);
      }),
    );
  });
});

describe('senderLabel', () => {
  it.each([
    ['John', 'john@x.test', 'John'],
    [undefined, 'john@x.test', 'john@x.test'],
    ["'Ann'", 'ann@x.test', 'Ann'],
    ['', '', 'unknown sender'],
  ])('%j, %j → %j', (name, address, expected) => {
    expect(senderLabel(name, address)).toBe(expected);
  });
});

describe('formatConfirmation', () => {
  it.each([
    ['sent', 'John', '✅ Reply sent to John'],
    ['sent', undefined, '✅ Reply sent'],
    ['ignored', 'John', '✓ Email ignored'],
    ['ignored', undefined, '✓ Email ignored'],
    ['timeout', 'John', '⏱ No answer in time: nothing sent to John'],
    ['timeout', undefined, '⏱ No answer in time: nothing sent'],
    ['failed', 'John', '⚠️ Reply to John failed and is on hold. Retry it from the dashboard.'],
    ['failed', '  ', '⚠️ A reply failed and is on hold. Retry it from the dashboard.'],
    ['max_edits', 'John', 'No more edits for this email. Reply 1 to send the last draft or 3 to ignore.'],
  ] as const)('%s (%j)', (kind, name, expected) => {
    const text = formatConfirmation(kind, name);
    expect(text).toBe(expected);
    expect(countSegments(text).segments).toBe(1);
  });
});
