import { describe, expect, it } from 'vitest';
import { formParams, twilioDeliveryState, twilioSignature, verifyTwilioSignature } from './twilio.js';

/**
 * Twilio's published example ("Webhooks security", and the request-validation docs of every Twilio
 * helper library): auth token 12345, this URL and these parameters sign to 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
 */
const TOKEN = '12345';
const URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+12349013030',
  Digits: '1234',
  From: '+12349013030',
  To: '+18005551212',
};
const SIGNATURE = '0/KCTR6DLpKmkAf8muzZqo1nDgQ=';

describe('twilioSignature', () => {
  it("reproduces Twilio's published example", () => {
    expect(twilioSignature(TOKEN, URL, PARAMS)).toBe(SIGNATURE);
  });

  it('does not depend on the order the parameters arrive in', () => {
    const reversed = Object.fromEntries(Object.entries(PARAMS).reverse());
    expect(twilioSignature(TOKEN, URL, reversed)).toBe(SIGNATURE);
  });

  it('reads a form body the same way, percent-encoding and all', () => {
    const body =
      'To=%2B18005551212&CallSid=CA1234567890ABCDE&Digits=1234&From=%2B12349013030&Caller=%2B12349013030';
    expect(twilioSignature(TOKEN, URL, formParams(body))).toBe(SIGNATURE);
  });

  it('signs every value of a repeated parameter', () => {
    const params = formParams('MediaUrl=b&MediaUrl=a&Body=hi');
    expect(params).toEqual({ MediaUrl: ['b', 'a'], Body: 'hi' });
    expect(twilioSignature(TOKEN, URL, params)).toBe(
      twilioSignature(TOKEN, URL, { MediaUrl: ['a', 'b'], Body: 'hi' }),
    );
    expect(twilioSignature(TOKEN, URL, params)).not.toBe(
      twilioSignature(TOKEN, URL, { MediaUrl: 'a', Body: 'hi' }),
    );
  });
});

describe('verifyTwilioSignature', () => {
  it('accepts the published example', () => {
    expect(verifyTwilioSignature(TOKEN, URL, PARAMS, SIGNATURE)).toBe(true);
  });

  it.each([
    ['another query string', 'https://mycompany.com/myapp.php?foo=1&bar=3', PARAMS, TOKEN],
    ['no query string', 'https://mycompany.com/myapp.php', PARAMS, TOKEN],
    ['http instead of https', 'http://mycompany.com/myapp.php?foo=1&bar=2', PARAMS, TOKEN],
    ['another host', 'https://evil.example/myapp.php?foo=1&bar=2', PARAMS, TOKEN],
    ['a changed parameter', URL, { ...PARAMS, Digits: '1235' }, TOKEN],
    ['an added parameter', URL, { ...PARAMS, Body: 'STOP' }, TOKEN],
    [
      'a missing parameter',
      URL,
      { CallSid: PARAMS.CallSid, Caller: PARAMS.Caller, Digits: PARAMS.Digits, From: PARAMS.From },
      TOKEN,
    ],
    ['another token', URL, PARAMS, '12346'],
  ])('refuses %s', (_name, url, params, token) => {
    expect(verifyTwilioSignature(token, url, params, SIGNATURE)).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['one character short', SIGNATURE.slice(0, -1)],
    ['one character more', `${SIGNATURE}=`],
    ['lower-cased', SIGNATURE.toLowerCase()],
    ['not base64 at all', 'not a signature'],
  ])('refuses a header that is %s', (_name, header) => {
    expect(verifyTwilioSignature(TOKEN, URL, PARAMS, header)).toBe(false);
  });

  it('tolerates whitespace around the header value', () => {
    expect(verifyTwilioSignature(TOKEN, URL, PARAMS, ` ${SIGNATURE} `)).toBe(true);
  });
});

describe('twilioDeliveryState', () => {
  it.each([
    ['accepted', 'queued'],
    ['scheduled', 'queued'],
    ['queued', 'queued'],
    ['sending', 'queued'],
    ['sent', 'sent'],
    ['delivered', 'delivered'],
    ['read', 'delivered'],
    ['undelivered', 'undelivered'],
    ['partially_delivered', 'undelivered'],
    ['failed', 'failed'],
    ['canceled', 'failed'],
    ['received', undefined],
    ['receiving', undefined],
    ['something-new', undefined],
  ])('%s → %s', (status, state) => {
    expect(twilioDeliveryState(status)).toBe(state);
  });
});
