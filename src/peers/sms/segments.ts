/**
 * How many SMS segments a text takes, the way carriers count them (3GPP TS 23.038 / 23.040):
 *
 * - GSM-7 when every character is in the GSM 03.38 basic set or its extension table. A basic
 *   character is one septet; an extension character (^ { } \ [ ~ ] | € and form feed) is an escape
 *   plus a septet, so two. One segment holds 160 septets; a longer text is split into segments of
 *   153 (7 septets go to the concatenation header).
 * - UCS-2 otherwise (one emoji or ç is enough): UTF-16 code units, 70 in one segment, 67 per
 *   segment when split. Astral characters (most emoji) are a surrogate pair: two units.
 *
 * A split never cuts an escape sequence or a surrogate pair in two: phones would show garbage, so
 * encoders move the whole character to the next segment and leave the last slot empty. That is
 * why 152 plain characters followed by "€" take two segments, not one full one plus a septet.
 *
 * No character is ever replaced by a look-alike to save segments (Twilio's "smart encoding"): we
 * count what is sent, and a text over budget is refused, never cut.
 */

export type SmsEncoding = 'gsm7' | 'ucs2';

export type SegmentCount = {
  encoding: SmsEncoding;
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
  /** An empty text still occupies one message. */
  segments: number;
  /** Units one segment holds for this text: 160 or 153 (GSM-7), 70 or 67 (UCS-2). */
  perSegment: number;
};

/** The GSM 03.38 basic set, 0x00–0x7F in order, without ESC (0x1B), which is not a character. */
export const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅå' +
  '\u0394_\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039EÆæßÉ' +
  ' !"#¤%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§' +
  '¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** The extension table: each is sent as ESC + a septet. */
export const GSM7_EXTENSION = '\f^{}\\[~]|€';

const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

const LIMITS: Record<SmsEncoding, { single: number; multi: number }> = {
  gsm7: { single: 160, multi: 153 },
  ucs2: { single: 70, multi: 67 },
};

/** Units each character takes in the encoding; iterating a string yields whole code points. */
function unitsPerCharacter(text: string): { encoding: SmsEncoding; sizes: number[] } {
  const characters = [...text];
  if (characters.every((ch) => BASIC.has(ch) || EXTENSION.has(ch))) {
    return { encoding: 'gsm7', sizes: characters.map((ch) => (EXTENSION.has(ch) ? 2 : 1)) };
  }
  return { encoding: 'ucs2', sizes: characters.map((ch) => ch.length) };
}

/** Packs characters into segments of `capacity` units without splitting any character. */
function packedSegments(sizes: readonly number[], capacity: number): number {
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > capacity) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return segments;
}

export function countSegments(text: string): SegmentCount {
  const { encoding, sizes } = unitsPerCharacter(text);
  const units = sizes.reduce((sum, size) => sum + size, 0);
  const limit = LIMITS[encoding];
  if (units <= limit.single) return { encoding, units, segments: 1, perSegment: limit.single };
  return { encoding, units, segments: packedSegments(sizes, limit.multi), perSegment: limit.multi };
}

/** True when the text fits in maxSegments; a text that does not is refused, never cut. */
export function fitsBudget(text: string, maxSegments: number): boolean {
  return countSegments(text).segments <= maxSegments;
}
