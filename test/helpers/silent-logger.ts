import { pino } from 'pino';

/** A real pino logger that writes nowhere unless TEST_LOG=1. */
export const testLogger = pino({ level: process.env.TEST_LOG ? 'debug' : 'silent' });
