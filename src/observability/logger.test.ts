import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { withCorrelationId } from '../core/runtime.js';
import { createLogger } from './logger.js';

const PHONE = '+15551234567';
const EMAIL = 'jane.doe@example.com';

/** A real pino logger writing JSON lines into memory. */
function capturedLogger(level = 'debug') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level, service: 'countersign-test' }, stream);
  return {
    logger,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    raw: () => lines.join('\n'),
  };
}

describe('createLogger', () => {
  it('writes JSON lines with level, time, service and message', () => {
    const { logger, records } = capturedLogger();
    logger.info({ jobs: 3 }, 'worker started');
    expect(records()).toEqual([
      {
        level: 'info',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        service: 'countersign-test',
        jobs: 3,
        msg: 'worker started',
      },
    ]);
  });

  it('puts the correlation id on lines logged inside withCorrelationId(), and only there', async () => {
    const { logger, records } = capturedLogger();
    logger.info('before');
    await withCorrelationId('corr-123', async () => {
      logger.info('sync inside');
      await new Promise((resolve) => setImmediate(resolve));
      logger.child({ component: 'worker' }).warn({ attempt: 2 }, 'after an await, from a child');
    });
    logger.info('after');
    expect(records().map((r) => [r.msg, r.correlation_id])).toEqual([
      ['before', undefined],
      ['sync inside', 'corr-123'],
      ['after an await, from a child', 'corr-123'],
      ['after', undefined],
    ]);
  });

  it('keeps the correlation ids of interleaved requests apart', async () => {
    const { logger, records } = capturedLogger();
    await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        withCorrelationId(id, async () => {
          for (let i = 0; i < 3; i++) {
            await new Promise((resolve) => setImmediate(resolve));
            logger.info({ request: id }, 'step');
          }
        }),
      ),
    );
    const lines = records();
    expect(lines).toHaveLength(9);
    for (const line of lines) expect(line.correlation_id).toBe(line.request);
  });

  it('never writes a phone number or email passed in a message, a field or an error', () => {
    const { logger, raw, records } = capturedLogger();
    withCorrelationId('corr-pii', () => {
      logger.info(`inbound SMS from ${PHONE}`);
      logger.info('reply to %s or %s', PHONE, EMAIL);
      logger.info({ from: PHONE, tenant: { email: EMAIL, phones: [PHONE] } }, 'fields');
      logger.warn({ body: `Hi, this is ${EMAIL}, call me at (555) 123-4567` }, 'quoted text');
      logger.error({ err: new Error(`Twilio 400: ${PHONE} is not a valid number`) }, 'send failed');
      logger.error({ err: new Error(`SMTP rejected ${EMAIL}`) });
      logger.error(new Error(`gateway refused ${PHONE}`));
      logger.child({ recipient: PHONE }).info('from a child logger');
      logger
        .child({ job: 'send' })
        .child({ to: { email: EMAIL } })
        .info('from a grandchild');
      logger.info('payload %j', { to: PHONE });
    });
    const text = raw();
    expect(records()).toHaveLength(10);
    expect(text).not.toContain('5551234567');
    expect(text).not.toContain('555) 123-4567');
    expect(text).not.toContain(EMAIL);
    expect(text).toContain('[phone]');
    expect(text).toContain('[email]');
    for (const record of records()) expect(record.correlation_id).toBe('corr-pii');
  });

  it('logs an error with its type and redacted message', () => {
    const { logger, records } = capturedLogger();
    logger.error({ err: new TypeError(`bad number ${PHONE}`) }, 'send failed');
    logger.error(new RangeError('out of range'));
    const lines = records();
    expect(lines.map((r) => [r.err, r.msg])).toMatchObject([
      [{ type: 'TypeError', message: 'bad number [phone]' }, 'send failed'],
      [{ type: 'RangeError', message: 'out of range' }, 'out of range'],
    ]);
    expect(String((lines[0]?.err as { stack?: string }).stack)).toContain('TypeError: bad number [phone]');
    expect(JSON.stringify(lines)).not.toContain(PHONE);
  });

  it('writes nothing below its level', () => {
    const { logger, records } = capturedLogger('warn');
    logger.info('quiet');
    logger.warn('loud');
    expect(records().map((r) => r.msg)).toEqual(['loud']);
  });
});
