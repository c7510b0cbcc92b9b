import { describe, expect, it } from 'vitest';
import { nextDeliveryState, optOutKeyword, type SmsMessageState } from './sms-store.js';

describe('optOutKeyword', () => {
  it.each(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE'])(
    '%s opts out',
    (word) => {
      expect(optOutKeyword(word)).toBe('stop');
      expect(optOutKeyword(word.toLowerCase())).toBe('stop');
      expect(optOutKeyword(` ${word[0]}${word.slice(1).toLowerCase()}. `)).toBe('stop');
    },
  );

  it.each(['START', 'UNSTOP'])('%s opts back in', (word) => {
    expect(optOutKeyword(word)).toBe('start');
    expect(optOutKeyword(`${word.toLowerCase()}!`)).toBe('start');
    expect(optOutKeyword(word, { optedOut: true })).toBe('start');
  });

  it('YES opts back in only a number that opted out; otherwise it is an answer', () => {
    expect(optOutKeyword('YES', { optedOut: true })).toBe('start');
    expect(optOutKeyword('yes', { optedOut: true })).toBe('start');
    expect(optOutKeyword('Yes')).toBeUndefined();
    expect(optOutKeyword('yes', { optedOut: false })).toBeUndefined();
  });

  it.each([
    'Please stop texting me',
    'stop it',
    'I will pay at the end of the month',
    'cancel my plan',
    'STOP STOP',
    'stopp',
    'HELP',
    'INFO',
    '1',
    '2 make it shorter',
    '',
    '   ',
    'yes please',
  ])('%j is not a keyword', (body) => {
    expect(optOutKeyword(body)).toBeUndefined();
    expect(optOutKeyword(body, { optedOut: true })).toBeUndefined();
  });
});

describe('nextDeliveryState', () => {
  const table: [SmsMessageState, SmsMessageState, SmsMessageState][] = [
    ['queued', 'sent', 'sent'],
    ['queued', 'delivered', 'delivered'],
    ['sent', 'delivered', 'delivered'],
    ['sent', 'undelivered', 'undelivered'],
    ['sent', 'failed', 'failed'],
    ['sent', 'queued', 'sent'],
    ['delivered', 'sent', 'delivered'],
    ['delivered', 'queued', 'delivered'],
    ['delivered', 'failed', 'delivered'],
    ['undelivered', 'delivered', 'undelivered'],
    ['failed', 'sent', 'failed'],
    ['sent', 'sent', 'sent'],
    ['received', 'delivered', 'delivered'],
  ];
  it.each(table)('%s + report %s → %s', (current, reported, expected) => {
    expect(nextDeliveryState(current, reported)).toBe(expected);
  });
});
