import { describe, expect, it } from 'vitest';
import {
  classifyOptOut,
  classifyOptOutTurn,
  sendsOwnConfirmation,
  suppressesNumber,
  type OptOutKind,
} from './opt-out.js';

const CASES: readonly (readonly [string, OptOutKind])[] = [
  // Carrier keywords, the whole message, any case, stray punctuation or spaces.
  ['STOP', 'stop'],
  ['stop', 'stop'],
  ['Stop.', 'stop'],
  ['  stop!!  ', 'stop'],
  ['S T O P', 'stop'],
  ['s.t.o.p', 'stop'],
  ['STOP 🛑', 'stop'],
  ['ＳＴＯＰ', 'stop'],
  ['ST\u200BOP', 'stop'],
  ['STOPALL', 'stop'],
  ['stop all', 'stop'],
  ['Unsubscribe', 'stop'],
  ['UNSUBSCRIBE.', 'stop'],
  ['cancel', 'stop'],
  ['Cancel!', 'stop'],
  ['END', 'stop'],
  ['end.', 'stop'],
  ['Quit', 'stop'],
  ['REVOKE', 'stop'],
  ['OPTOUT', 'stop'],
  ['opt out', 'stop'],
  ['Opt-Out!', 'stop'],
  ['"stop"', 'stop'],
  // Opt back in; help.
  ['START', 'start'],
  ['start.', 'start'],
  ['Unstop', 'start'],
  ['HELP', 'help'],
  ['help?', 'help'],
  ['Info', 'help'],
  ['INFO.', 'help'],
  // Natural-language requests.
  ['stop texting me', 'natural_stop'],
  ['STOP TEXTING ME', 'natural_stop'],
  ['please stop contacting me', 'natural_stop'],
  ['Please stop', 'natural_stop'],
  ['stop please', 'natural_stop'],
  ['STOP STOP STOP', 'natural_stop'],
  ['Stop. I already paid', 'natural_stop'],
  ["don't text me anymore", 'natural_stop'],
  ['dont text me anymore', 'natural_stop'],
  ['Don’t message me again', 'natural_stop'],
  ['Please don’t message me again', 'natural_stop'],
  ['leave me alone', 'natural_stop'],
  ['remove my number', 'natural_stop'],
  ['please remove my number from your system', 'natural_stop'],
  ['remove me from this list', 'natural_stop'],
  ['take me off your list', 'natural_stop'],
  ['no more texts please', 'natural_stop'],
  ['I already paid you guys, stop texting me', 'natural_stop'],
  ['Who is this? Stop texting me', 'natural_stop'],
  ['You have the wrong number. Please remove me.', 'natural_stop'],
  ['Bankruptcy case # 24-10234, you need to stop contacting me', 'natural_stop'],
  ['Quit harassing me', 'natural_stop'],
  ['unsubscribe me', 'natural_stop'],
  ['how do I opt out of these', 'natural_stop'],
  ['I revoke my consent to be contacted', 'natural_stop'],
  ['cease all communication', 'natural_stop'],
  ['I do not want any more texts', 'natural_stop'],
  ['lose my number', 'natural_stop'],
  ['if you don’t stop texting me I’m calling my lawyer', 'natural_stop'],
  ['no me escribas más', 'natural_stop'],
  ['ALTO', 'natural_stop'],
  ['dejen de escribirme', 'natural_stop'],
  // Must not match.
  ["I can't stop worrying about rent", 'none'],
  ['end of the month I can pay', 'none'],
  ['cancel my autopay?', 'none'],
  ['Can I cancel my autopay and pay by card?', 'none'],
  ['I quit my job last week', 'none'],
  ['I need help paying rent', 'none'],
  ['help me please I cannot pay', 'none'],
  ['start the payment plan next week', 'none'],
  ["I'll stop by the office Friday to pay", 'none'],
  ['can you stop the late fees', 'none'],
  ["please don't stop my payment plan", 'none'],
  ['the end', 'none'],
  ['stop texting me at work', 'none'],
  ["don't text me after 9pm", 'none'],
  ['please stop texting me so early', 'none'],
  ["don't call me, text me instead", 'none'],
  ['I can pay $50 per week for 3 months', 'none'],
  ['STOPPED by the bank earlier', 'none'],
  ['information about my lease please', 'none'],
  ['', 'none'],
  ['🛑', 'none'],
  ['yes', 'none'],
];

describe('classifyOptOut', () => {
  it.each(CASES)('%j → %s', (text, kind) => {
    expect(classifyOptOut(text).kind).toBe(kind);
  });

  it('has at least 40 cases, with every kind and negatives', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    const kinds = new Set(CASES.map(([, kind]) => kind));
    expect([...kinds].sort()).toEqual(['help', 'natural_stop', 'none', 'start', 'stop']);
  });

  it('names what matched, for the audit log', () => {
    expect(classifyOptOut('Stop.')).toEqual({ kind: 'stop', matched: 'keyword:stop' });
    expect(classifyOptOut('leave me alone')).toEqual({ kind: 'natural_stop', matched: 'leave_alone' });
    expect(classifyOptOut('hello')).toEqual({ kind: 'none' });
  });
});

describe('suppressesNumber', () => {
  it.each([
    ['stop', true],
    ['natural_stop', true],
    ['start', false],
    ['help', false],
    ['none', false],
  ] as const)('%s → %s', (kind, expected) => {
    expect(suppressesNumber(kind)).toBe(expected);
  });
});

describe('sendsOwnConfirmation', () => {
  it.each([
    ['stop', true, false],
    ['stop', false, true],
    ['start', true, false],
    ['start', false, true],
    ['help', true, false],
    ['help', false, true],
    // No provider saw a keyword in "stop texting me": the one confirmation is ours.
    ['natural_stop', true, true],
    ['natural_stop', false, true],
    ['none', true, false],
    ['none', false, false],
  ] as const)('%s with provider answering keywords=%s → %s', (kind, provider, expected) => {
    expect(sendsOwnConfirmation(kind, provider)).toBe(expected);
  });
});

describe('classifyOptOutTurn', () => {
  it.each<[string[], OptOutKind]>([
    [['STOP'], 'stop'],
    [["I'll pay Friday", 'STOP'], 'stop'],
    [['STOP', "I'll pay Friday"], 'stop'],
    [['STOP', 'START'], 'start'],
    [['START', 'STOP'], 'stop'],
    [['HELP', 'STOP'], 'stop'],
    [['STOP', 'HELP'], 'stop'],
    [['HELP', 'how much do I owe?'], 'help'],
    [['who is this?', 'stop texting me'], 'natural_stop'],
    [['stop', 'texting me'], 'stop'],
    [["don't text", 'me anymore'], 'natural_stop'],
    [['I can pay Friday', 'thanks'], 'none'],
    [[], 'none'],
  ])('%j → %s', (texts, kind) => {
    expect(classifyOptOutTurn(texts).kind).toBe(kind);
  });
});
