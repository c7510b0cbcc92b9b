import { describe, expect, it } from 'vitest';
import { asSentence, readInstructions, splitInstructions, withArticle } from './instructions.js';

describe('readInstructions', () => {
  it.each([
    ['shorter', { short: true }],
    ['make it shorter', { short: true }],
    ['Shorter please', { short: true }],
    ['be brief', { short: true }],
    ['a bit more concise', { short: true }],
    ['shorten it', { short: true }],
    ['more formal', { tone: 'formal' }],
    ['make it more professional', { tone: 'formal' }],
    ['Formal.', { tone: 'formal' }],
    ['less formal', { tone: 'casual' }],
    ['more casual', { tone: 'casual' }],
    ['friendlier', { tone: 'casual' }],
  ])('%s', (instruction, expected) => {
    expect(readInstructions([instruction])).toMatchObject({ ...expected, unapplied: [] });
  });

  it.each([
    ['mention that I am OUT until Monday', 'I am OUT until Monday.'],
    ['Mention the report is attached', 'The report is attached.'],
    ['add: see you at 2pm', 'See you at 2pm.'],
    ['please say thanks for the flowers!', 'Thanks for the flowers!'],
    ['tell them I’m sick', 'I’m sick.'],
    ['let them know that the invoice was paid on 3/4', 'The invoice was paid on 3/4.'],
    ['include the McDonald account number', 'The McDonald account number.'],
    ['ask them if Tuesday works instead', 'Could you let me know if Tuesday works instead?'],
    ['ask whether they got the file?', 'Could you let me know if they got the file?'],
  ])('%s adds %s, words as typed', (instruction, sentence) => {
    expect(readInstructions([instruction])).toMatchObject({ additions: [sentence], unapplied: [] });
  });

  it.each([
    ['reject meeting with health reason', { object: 'meeting', reason: ' for health reasons' }],
    [
      'decline the invitation because I am traveling',
      { object: 'the invitation', reason: ' because I am traveling' },
    ],
    [
      'politely decline due to a scheduling conflict',
      { object: '', reason: ' due to a scheduling conflict' },
    ],
    ['turn down the offer', { object: 'the offer', reason: '' }],
    ['say no', { object: '', reason: '' }],
  ])('%s declines', (instruction, decline) => {
    expect(readInstructions([instruction])).toMatchObject({ decline, unapplied: [] });
  });

  it('accepts and signs', () => {
    expect(readInstructions(['confirm the meeting', 'sign as Dr. Bob'])).toMatchObject({
      accept: { object: 'the meeting' },
      signature: 'Dr. Bob',
      unapplied: [],
    });
  });

  it.each([
    ['meeting', ' the meeting'],
    ['the invitation', ' the invitation'],
    ["that I'll attend", " that I'll attend"],
    ['My offer', ' My offer'],
    ['', ''],
  ])('withArticle(%s) = %s', (object, expected) => {
    expect(withArticle(object)).toBe(expected);
  });

  it('keeps what it cannot apply, exactly as typed', () => {
    expect(readInstructions(['Make it FUNNIER', 'longer'])).toMatchObject({
      unapplied: ['Make it FUNNIER', 'longer'],
    });
  });

  it('folds every instruction so far, oldest first; later tone wins; additions accumulate', () => {
    const style = readInstructions([
      'mention the report',
      'more formal',
      'shorter and add see you soon',
      'more casual',
    ]);
    expect(style).toMatchObject({
      short: true,
      tone: 'casual',
      additions: ['The report.', 'See you soon.'],
      unapplied: [],
    });
  });

  it.each([
    ['shorter and mention the report', ['shorter', 'mention the report']],
    ['mention that Tom and Ann will come', ['mention that Tom and Ann will come']],
    ['more formal; sign as Bob', ['more formal', 'sign as Bob']],
    ['shorter, also ask if Friday works', ['shorter', 'ask if Friday works']],
    ['  ', []],
  ])('splits %s', (instruction, parts) => {
    expect(splitInstructions(instruction)).toEqual(parts);
  });

  it('makes sentences without re-casing words', () => {
    expect(asSentence('call ME at the NYC office')).toBe('Call ME at the NYC office.');
    expect(asSentence('Done?')).toBe('Done?');
  });
});
