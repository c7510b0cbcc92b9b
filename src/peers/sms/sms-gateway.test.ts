import { describe, expect, it } from 'vitest';
import { isTemporaryGatewayError } from './sms-gateway.js';

describe('isTemporaryGatewayError', () => {
  it.each([
    ['Modem timeout', true],
    ['Request timed out', true],
    ['Please try again later', true],
    ['Retry in 10 seconds', true],
    ['Device busy', true],
    ['Service unavailable', true],
    ['Rate limit exceeded', true],
    ['Too many messages', true],
    ['Throttled', true],
    ['Queue full', true],
    ['No signal', true],
    ['No service', true],
    ['Network error', true],
    ['Phone not connected', true],
    ['Gateway disconnected', true],
    ['Temporary failure', true],
    ['Invalid phone number', false],
    ['Number blocked', false],
    ['Insufficient credit', false],
    ['Message too long', false],
    ['Unknown error', false],
    ['', false],
    [null, false],
    [undefined, false],
  ])('%j → %s', (error, temporary) => {
    expect(isTemporaryGatewayError(error)).toBe(temporary);
  });
});
