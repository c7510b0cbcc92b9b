import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countSegments, fitsBudget, GSM7_BASIC, GSM7_EXTENSION } from './segments.js';

const a = (n: number) => 'a'.repeat(n);
const euro = (n: number) => '€'.repeat(n);
const smile = '😀';

describe('countSegments', () => {
  it.each([
    // GSM-7: 160 in one, 153 per segment when split
    ['empty', '', 'gsm7', 0, 1, 160],
    ['one septet', 'a', 'gsm7', 1, 1, 160],
    ['160 septets', a(160), 'gsm7', 160, 1, 160],
    ['161 septets', a(161), 'gsm7', 161, 2, 153],
    ['306 septets', a(306), 'gsm7', 306, 2, 153],
    ['307 septets', a(307), 'gsm7', 307, 3, 153],
    ['459 septets', a(459), 'gsm7', 459, 3, 153],
    ['460 septets', a(460), 'gsm7', 460, 4, 153],
    // escapes count two septets
    ['80 euro signs = 160 septets', euro(80), 'gsm7', 160, 1, 160],
    ['80 euro signs and one more', `${euro(80)}a`, 'gsm7', 161, 2, 153],
    ['159 plain + escape = 161', `${a(159)}€`, 'gsm7', 161, 2, 153],
    ['158 plain + escape = 160', `${a(158)}€`, 'gsm7', 160, 1, 160],
    ['152 escapes = 304 septets', euro(152), 'gsm7', 304, 2, 153],
    // 153 is odd: 76 escapes fill 152 septets, the 77th moves on, so 153 escapes need three
    ['153 escapes = 306 septets', euro(153), 'gsm7', 306, 3, 153],
    ['153 escapes and one more', `${euro(153)}a`, 'gsm7', 307, 3, 153],
    // an escape is never split: 152 + € leaves the 153rd slot empty and moves on
    ['escape straddling the first boundary', `${a(152)}€${a(152)}`, 'gsm7', 306, 3, 153],
    ['escape right at the boundary', `${a(151)}€${a(153)}`, 'gsm7', 306, 2, 153],
    ['every extension character', GSM7_EXTENSION, 'gsm7', 2 * GSM7_EXTENSION.length, 1, 160],
    ['form feed is an escape', `${a(159)}\f`, 'gsm7', 161, 2, 153],
    ['newline and CR are basic', `line\r\nline`, 'gsm7', 10, 1, 160],
    // UCS-2: 70 in one, 67 per segment when split
    ['one character outside GSM', 'ç', 'ucs2', 1, 1, 70],
    ['70 units', `ç${a(69)}`, 'ucs2', 70, 1, 70],
    ['71 units', `ç${a(70)}`, 'ucs2', 71, 2, 67],
    ['134 units', `ç${a(133)}`, 'ucs2', 134, 2, 67],
    ['135 units', `ç${a(134)}`, 'ucs2', 135, 3, 67],
    ['201 units', `ç${a(200)}`, 'ucs2', 201, 3, 67],
    ['202 units', `ç${a(201)}`, 'ucs2', 202, 4, 67],
    ['a euro sign in UCS-2 is one unit', `ç${euro(69)}`, 'ucs2', 70, 1, 70],
    // emoji force UCS-2 and take two units
    ['one emoji', smile, 'ucs2', 2, 1, 70],
    ['35 emoji = 70 units', smile.repeat(35), 'ucs2', 70, 1, 70],
    ['36 emoji = 72 units', smile.repeat(36), 'ucs2', 72, 2, 67],
    ['68 units with an emoji at the end', `${a(66)}${smile}`, 'ucs2', 68, 1, 70],
    ['an emoji never split across segments', `${a(66)}${smile}${a(66)}`, 'ucs2', 134, 3, 67],
    ['an emoji ending a segment exactly', `${a(65)}${smile}${a(67)}`, 'ucs2', 134, 2, 67],
    ['flag (two astral code points)', '🇺🇸', 'ucs2', 4, 1, 70],
    ['emoji with variation selector', '❤️', 'ucs2', 2, 1, 70],
  ] as const)('%s', (_name, text, encoding, units, segments, perSegment) => {
    expect(countSegments(text)).toEqual({ encoding, units, segments, perSegment });
  });

  it('the basic set holds the 127 printable GSM 03.38 characters, each one septet', () => {
    expect([...GSM7_BASIC]).toHaveLength(127);
    expect(new Set(GSM7_BASIC).size).toBe(127);
    for (const ch of GSM7_BASIC)
      expect(countSegments(ch), JSON.stringify(ch)).toMatchObject({ encoding: 'gsm7', units: 1 });
  });

  it('the extension table characters are two septets each', () => {
    expect([...GSM7_EXTENSION]).toEqual(['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€']);
    for (const ch of GSM7_EXTENSION)
      expect(countSegments(ch), JSON.stringify(ch)).toMatchObject({ encoding: 'gsm7', units: 2 });
  });

  it.each([
    ['lowercase c cedilla (only Ç is GSM)', 'ç'],
    ['tab', '\t'],
    ['backtick', '`'],
    ['a acute', 'á'],
    ['curly apostrophe', '’'],
    ['ohm sign, not Greek omega', '\u2126'],
    ['Greek small omega', 'ω'],
    ['non-breaking space', '\u00a0'],
    ['ESC itself', '\u001b'],
  ])('%s forces UCS-2', (_name, ch) => {
    expect(countSegments(`Hello ${ch}`).encoding).toBe('ucs2');
  });

  it.each([
    ['capital C cedilla', 'Ç'],
    ['Greek capital omega', '\u03A9'],
    ['pound, yen, section', '£¥§'],
    ['inverted marks', '¡¿'],
    ['currency sign', '¤'],
  ])('%s stays GSM-7', (_name, ch) => {
    expect(countSegments(`Hello ${ch}`).encoding).toBe('gsm7');
  });

  it('plain GSM text without escapes: one segment up to 160, then ceil(n / 153)', () => {
    const plain = fc.string({ unit: fc.constantFrom(...'abcXYZ019 .,!?@$'), maxLength: 800 });
    fc.assert(
      fc.property(plain, (text) => {
        const expected = text.length <= 160 ? 1 : Math.ceil(text.length / 153);
        expect(countSegments(text)).toMatchObject({
          encoding: 'gsm7',
          units: text.length,
          segments: expected,
        });
      }),
    );
  });

  it('a longer text never takes fewer segments', () => {
    const unit = fc.constantFrom('a', '€', 'ç', smile, '{', ' ');
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 400 }), unit, (parts, extra) => {
        const text = parts.join('');
        const before = countSegments(text);
        const after = countSegments(text + extra);
        // Appending can switch GSM-7 to UCS-2, which only makes segments smaller.
        expect(after.segments).toBeGreaterThanOrEqual(before.segments);
      }),
    );
  });
});

describe('fitsBudget', () => {
  it.each([
    [a(459), 3, true],
    [a(460), 3, false],
    [a(160), 1, true],
    [a(161), 1, false],
    [`ç${a(200)}`, 3, true],
    [`ç${a(201)}`, 3, false],
    ['', 1, true],
  ] as const)('%#: %s chars within %i segments → %s', (text, max, fits) => {
    expect(fitsBudget(text, max)).toBe(fits);
  });
});
