import { expect } from 'vitest';
import { RetryAfterError, retryClassOf } from '../../src/core/retry-errors.js';
import {
  createPeerGuard,
  PeerTimeoutError,
  PeerUnavailableError,
  type PeerGuard,
  type PeerGuardOptions,
} from '../../src/peers/resilience.js';
import type { Fault, FakeHttpServer } from '../fakes/fake-http-server.js';

/**
 * What every adapter's contract test checks the same way: how a guarded call to the peer fails
 * when the peer misbehaves. Each test describes its adapter once as a ContractPeer and runs these
 * scenarios in its own `it`s, next to the tests of what is particular to the peer.
 */

/** Consecutive failures that open the breaker in these tests. */
export const BREAKER_THRESHOLD = 3;
/** How long the breaker stays open in these tests. */
export const BREAKER_RESET_MS = 300;
/** The time limit for the scenarios that hang the peer. */
export const HANG_LIMIT_MS = 200;

/**
 * A guard with test-sized limits: a generous time limit unless the test is about timing out (a
 * loaded machine is slow, not down) and a breaker a test can watch open and close.
 */
export function contractGuard(name: string, overrides: Partial<PeerGuardOptions> = {}): PeerGuard {
  return createPeerGuard({
    name,
    timeoutMs: 10_000,
    maxConcurrency: 4,
    breakerThreshold: BREAKER_THRESHOLD,
    breakerResetMs: BREAKER_RESET_MS,
    ...overrides,
  });
}

/** One adapter and the fake behind it, as the scenarios see them. */
export type ContractPeer = {
  /** The peer's name, for the guards the scenarios make. */
  name: string;
  /** The fake peer (or a bare FakeHttpServer) the adapter calls. */
  fake: Pick<FakeHttpServer, 'failNext' | 'failAlways' | 'heal'>;
  /** One call through the adapter that succeeds against a healthy fake. */
  call: (guard: PeerGuard) => Promise<unknown>;
  /** How many of the calls' requests the fake has received, faulted ones included. */
  requestsAtPeer: () => number;
};

/** The error a call fails with; fails the test if the call succeeds. */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

export function expectRetryAfter(error: unknown, ms: number): void {
  expect(error).toBeInstanceOf(RetryAfterError);
  expect((error as RetryAfterError).retryAfterMs).toBe(ms);
}

/** The fault is a retriable PeerUnavailableError. */
export async function expectRetriable(peer: ContractPeer, fault: Fault): Promise<void> {
  peer.fake.failNext(fault);
  const error = await failure(peer.call(contractGuard(peer.name)));
  expect(error).toBeInstanceOf(PeerUnavailableError);
  expect(retryClassOf(error)).toBe('retriable');
}

/** A 429 (or, with `status`, a 503) with Retry-After becomes RetryAfterError after that long. */
export async function expectRetryAfterHonoured(
  peer: ContractPeer,
  retryAfter: { seconds: number; status?: 429 | 503 },
): Promise<void> {
  peer.fake.failNext({ kind: 'retry_after', ...retryAfter });
  expectRetryAfter(await failure(peer.call(contractGuard(peer.name))), retryAfter.seconds * 1000);
}

/** A hung peer fails the call at the guard's time limit with a retriable PeerTimeoutError. */
export async function expectTimesOut(peer: ContractPeer): Promise<void> {
  peer.fake.failNext({ kind: 'hang' });
  const started = performance.now();
  const error = await failure(peer.call(contractGuard(peer.name, { timeoutMs: HANG_LIMIT_MS })));
  expect(error).toBeInstanceOf(PeerTimeoutError);
  expect(retryClassOf(error)).toBe('retriable');
  expect(performance.now() - started).toBeLessThan(1500);
}

/**
 * While the peer fails with `fault`, BREAKER_THRESHOLD calls fail retriably (a hang as a timeout)
 * and open the breaker; the next call fails fast with RetryAfterError without reaching the peer.
 * Once the peer is healed and the breaker's reset has passed, a trial call succeeds and closes it.
 * Answers what the trial call answered.
 */
export async function expectBreakerOpensAndCloses(peer: ContractPeer, fault: Fault): Promise<unknown> {
  const hangs = fault.kind === 'hang';
  const guard = contractGuard(peer.name, hangs ? { timeoutMs: HANG_LIMIT_MS } : {});
  const before = peer.requestsAtPeer();
  peer.fake.failAlways(fault);
  for (let i = 0; i < BREAKER_THRESHOLD; i += 1) {
    const error = await failure(peer.call(guard));
    expect(error).toBeInstanceOf(hangs ? PeerTimeoutError : PeerUnavailableError);
    expect(retryClassOf(error)).toBe('retriable');
  }
  expect(guard.circuit()).toBe('open');
  expect(await failure(peer.call(guard))).toBeInstanceOf(RetryAfterError);
  expect(peer.requestsAtPeer() - before).toBe(BREAKER_THRESHOLD); // the open breaker did not call the peer

  peer.fake.heal();
  await new Promise((resolve) => setTimeout(resolve, BREAKER_RESET_MS + 100));
  const answer = await peer.call(guard);
  expect(guard.circuit()).toBe('closed');
  expect(peer.requestsAtPeer() - before).toBe(BREAKER_THRESHOLD + 1);
  return answer;
}
