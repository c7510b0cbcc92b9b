import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countSegments } from '../peers/sms/segments.js';
import {
  ASK_FOR_INSTRUCTIONS_TEXT,
  CARRIER_KEYWORDS,
  DRAFT_ON_ITS_WAY_TEXT,
  HELP_TEXT,
  isCarrierKeyword,
  NOTHING_WAITING_TEXT,
  parseOwnerCommand,
  type OwnerCommand,
} from './commands.js';

const send: OwnerCommand = { kind: 'send' };
const ignore: OwnerCommand = { kind: 'ignore' };
const unknown: OwnerCommand = { kind: 'unknown' };
const missing: OwnerCommand = { kind: 'edit_missing_instructions' };
const edit = (instructions: string): OwnerCommand => ({ kind: 'edit', instructions });

describe('parseOwnerCommand', () => {
  it.each<[string, OwnerCommand]>([
    // the seed's send forms
    ['1', send],
    ['send', send],
    ['approve', send],
    // case and surrounding whitespace do not matter
    ['SEND', send],
    ['Send', send],
    ['APPROVE', send],
    ['Approve', send],
    ['  1  ', send],
    ['\n1\n', send],
    ['\t send \r\n', send],
    ['\u00a01\u00a0', send],
    // a habitual full stop or exclamation mark is tolerated
    ['1.', send],
    ['1!', send],
    ['Send!', send],
    ['approve.', send],
    ['1!!', send],
    // the seed's ignore forms
    ['3', ignore],
    ['ignore', ignore],
    ['IGNORE', ignore],
    [' Ignore. ', ignore],
    ['3!', ignore],
    // the seed's edit form, and its own example, kept exactly as typed
    ['2 reject meeting with health reason', edit('reject meeting with health reason')],
    ['2 make it more casual', edit('make it more casual')],
    ['edit make it more casual', edit('make it more casual')],
    ['EDIT Make It Formal', edit('Make It Formal')],
    ['Edit: say I will call Tuesday', edit('say I will call Tuesday')],
    ['2: mention the invoice #4411', edit('mention the invoice #4411')],
    ['2- shorter', edit('shorter')],
    ['2 - shorter', edit('shorter')],
    ['2, shorter please', edit('shorter please')],
    ['2. Shorter.', edit('Shorter.')],
    ['2) add a greeting', edit('add a greeting')],
    ['2\nmake it shorter', edit('make it shorter')],
    ['  2   Say NO politely!  ', edit('Say NO politely!')],
    // inner spacing, newlines and punctuation are the owner's and stay
    ['2 keep   two  spaces', edit('keep   two  spaces')],
    ['2 first line\nsecond line', edit('first line\nsecond line')],
    ['2 say "thanks, Bob" — then stop?', edit('say "thanks, Bob" — then stop?')],
    ['2 use 😀 once', edit('use 😀 once')],
    ['2 2', edit('2')],
    ['2 1', edit('1')],
    ['edit send it tomorrow', edit('send it tomorrow')],
    // an edit without instructions asks for them
    ['2', missing],
    ['edit', missing],
    ['EDIT', missing],
    ['2:', missing],
    ['2 -', missing],
    [' edit . ', missing],
    // anything else is unknown: a wrong send cannot be taken back
    ['12', unknown],
    ['1 2', unknown],
    ['21', unknown],
    ['1 thanks', unknown],
    ['send it now?', unknown],
    ['send it', unknown],
    ['1?', unknown],
    ['3 spam', unknown],
    ['ignore this one', unknown],
    ['2nd thought', unknown],
    ['20 minutes late', unknown],
    ['editor', unknown],
    ['edits', unknown],
    ['sent', unknown],
    ['ok', unknown],
    ['4', unknown],
    ['0', unknown],
    ['one', unknown],
    ['', unknown],
    ['   ', unknown],
    ['👍', unknown],
    // carrier keywords are never commands
    ['yes', unknown],
    ['YES', unknown],
    ['STOP', unknown],
    ['stop', unknown],
    ['HELP', unknown],
    ['START', unknown],
    ['UNSTOP', unknown],
  ])('%j', (text, expected) => {
    expect(parseOwnerCommand(text)).toEqual(expected);
  });

  it('an edit keeps the owner’s words: the instructions are a trimmed suffix of the text', () => {
    fc.assert(
      fc.property(fc.string(), (rest) => {
        const result = parseOwnerCommand(`2 ${rest}`);
        if (result.kind === 'edit') {
          expect(rest).toContain(result.instructions);
          expect(result.instructions).toBe(result.instructions.trim());
          expect(result.instructions).not.toBe('');
        } else {
          expect(result.kind).toBe('edit_missing_instructions');
        }
      }),
    );
  });

  it('never throws, and sends only for the three bare forms', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseOwnerCommand(text);
        if (result.kind === 'send') {
          expect(
            text
              .trim()
              .replace(/[.!]+$/, '')
              .toLowerCase(),
          ).toMatch(/^(1|send|approve)$/);
        }
      }),
    );
  });
});

describe('isCarrierKeyword', () => {
  it.each([
    ['STOP', true],
    [' stop ', true],
    ['Help', true],
    ['yes', true],
    ['START', true],
    ['unsubscribe', true],
    ['1', false],
    ['stop it', false],
    ['send', false],
  ] as const)('%j → %s', (text, expected) => {
    expect(isCarrierKeyword(text)).toBe(expected);
  });

  it('no carrier keyword is a command', () => {
    for (const keyword of CARRIER_KEYWORDS) expect(parseOwnerCommand(keyword)).toEqual(unknown);
  });
});

describe('owner texts', () => {
  it.each([
    ['HELP_TEXT', HELP_TEXT],
    ['ASK_FOR_INSTRUCTIONS_TEXT', ASK_FOR_INSTRUCTIONS_TEXT],
    ['NOTHING_WAITING_TEXT', NOTHING_WAITING_TEXT],
    ['DRAFT_ON_ITS_WAY_TEXT', DRAFT_ON_ITS_WAY_TEXT],
  ])('%s is plain GSM-7 in one segment', (_name, text) => {
    expect(countSegments(text)).toMatchObject({ encoding: 'gsm7', segments: 1 });
  });

  it('the help text names every command it teaches', () => {
    expect(HELP_TEXT).toMatch(/\b1\b/);
    expect(HELP_TEXT).toMatch(/\b2\b/);
    expect(HELP_TEXT).toMatch(/\b3\b/);
  });
});
