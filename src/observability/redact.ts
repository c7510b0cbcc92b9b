/**
 * Phone numbers and email addresses never reach a log line. Values are scrubbed wherever they
 * appear (messages, nested fields), because a path-based redaction list misses the tenant's
 * number quoted inside an error message.
 */
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
// E.164 and international forms (+ then 8-15 digits, separators allowed), NANP forms
// ((555) 123-4567, 555-123-4567, 555.123.4567) and bare 10-11 digit runs. Dates (2025-01-15)
// and times do not match: NANP needs 3-3-4 groups.
const PHONE =
  /\+\d[\d\s().-]{6,18}\d|\(\d{3}\)\s?\d{3}[\s.-]\d{4}|\b\d{3}[\s.-]\d{3}[\s.-]\d{4}\b|\b1?\d{10}\b/g;

export function redactText(text: string): string {
  return text.replace(EMAIL, '[email]').replace(PHONE, '[phone]');
}

export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (value instanceof Error) {
    // The stack stays (a 500 is hard to debug without it), scrubbed like everything else.
    return { type: value.name, message: redactText(value.message), stack: redactText(value.stack ?? '') };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, depth + 1);
  return out;
}
