import { parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js';

/**
 * Phone numbers are E.164 past the edge. A number without a country code is read in the
 * configured region (DEFAULT_PHONE_REGION, US by default). An invalid number is an error the
 * edge turns into a 400, never a guess.
 */
export class InvalidPhoneNumberError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`not a valid phone number (${reason})`);
    this.name = 'InvalidPhoneNumberError';
  }
}

export function normalizePhone(raw: string, defaultRegion = 'US'): string {
  const input = raw.trim();
  if (input === '') throw new InvalidPhoneNumberError(raw, 'empty');
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(input, defaultRegion as CountryCode);
  } catch (error) {
    throw new InvalidPhoneNumberError(
      raw,
      error instanceof Error ? error.message.toLowerCase() : 'unreadable',
    );
  }
  if (!parsed.isValid()) throw new InvalidPhoneNumberError(raw, 'no such number');
  return parsed.number;
}

/** For zod schemas at the edge: the E.164 form, or undefined when invalid. */
export function tryNormalizePhone(raw: string, defaultRegion = 'US'): string | undefined {
  try {
    return normalizePhone(raw, defaultRegion);
  } catch {
    return undefined;
  }
}
