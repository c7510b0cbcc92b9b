import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** Time, ids and randomness are passed in so that timers and retries are testable without waiting. */
export type Clock = { now(): Date };
export type Ids = { uuid(): string };
export type Random = () => number;

export const systemClock: Clock = { now: () => new Date() };
export const randomIds: Ids = { uuid: () => randomUUID() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | string = '2025-01-15T10:30:00Z') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(at: Date | string): void {
    this.current = new Date(at).getTime();
  }
}

type RequestContext = { correlationId: string };
const context = new AsyncLocalStorage<RequestContext>();

/** Runs fn with a correlation id that log lines, audit rows and enqueued jobs pick up. */
export function withCorrelationId<T>(correlationId: string, fn: () => T): T {
  return context.run({ correlationId }, fn);
}

export function currentCorrelationId(): string | undefined {
  return context.getStore()?.correlationId;
}
