import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commandTarget,
  holdsOwnerSlot,
  nextToPresent,
  presentation,
  type OwnerWorkflow,
} from './presentation.js';
import { EMAIL_WORKFLOW_STATUSES, type EmailWorkflowStatus } from './workflow-state.js';

const at = (minute: number) => new Date(Date.UTC(2025, 0, 15, 10, minute)).toISOString();
const wf = (id: string, status: EmailWorkflowStatus, created: number, presented?: number): OwnerWorkflow => ({
  id,
  status,
  createdAt: at(created),
  ...(presented === undefined ? {} : { presentedAt: at(presented) }),
});

describe('presentation: one draft at a time', () => {
  it.each<[string, OwnerWorkflow[], string | undefined, string | undefined, string[]]>([
    ['nothing at all', [], undefined, undefined, []],
    ['one draft ready: present it', [wf('a', 'ai_generated', 1)], undefined, 'a', ['a']],
    [
      'several ready: the oldest email first',
      [wf('b', 'ai_generated', 2), wf('a', 'ai_generated', 1), wf('c', 'ai_generated', 3)],
      undefined,
      'a',
      ['a', 'b', 'c'],
    ],
    [
      'same age: by id, so the choice is stable',
      [wf('b', 'ai_generated', 1), wf('a', 'ai_generated', 1)],
      undefined,
      'a',
      ['a', 'b'],
    ],
    [
      'one awaiting: it is the target, the rest wait',
      [wf('a', 'awaiting_user', 1, 5), wf('b', 'ai_generated', 0)],
      'a',
      undefined,
      ['b'],
    ],
    [
      'one being texted: the slot is taken',
      [wf('a', 'sms_sending', 1), wf('b', 'ai_generated', 0)],
      'a',
      undefined,
      ['b'],
    ],
    [
      'a redraft being written keeps the slot',
      [wf('a', 'user_edit_requested', 3, 5), wf('b', 'ai_generated', 0)],
      'a',
      undefined,
      ['b'],
    ],
    [
      'a ready redraft comes before older emails',
      [wf('a', 'ai_generated', 3, 5), wf('b', 'ai_generated', 0)],
      'a',
      'a',
      ['a', 'b'],
    ],
    [
      'the settled do not count',
      [wf('a', 'reply_sent', 0, 1), wf('b', 'user_ignored', 1, 2), wf('c', 'ai_generated', 5)],
      undefined,
      'c',
      ['c'],
    ],
    [
      'approved is settled: the next is presented',
      [wf('a', 'user_approved', 0, 1), wf('c', 'ai_generated', 5)],
      undefined,
      'c',
      ['c'],
    ],
    [
      'failed, timeout and skipped free the slot',
      [wf('a', 'failed', 0, 1), wf('b', 'timeout', 0, 1), wf('s', 'skipped', 0), wf('c', 'ai_generated', 5)],
      undefined,
      'c',
      ['c'],
    ],
    [
      'drafts still being written are not ready',
      [wf('a', 'pending', 0), wf('b', 'ai_generating', 0)],
      undefined,
      undefined,
      [],
    ],
    [
      'a retried redraft while another is shown: the one shown last is the target',
      [wf('a', 'user_edit_requested', 0, 1), wf('b', 'awaiting_user', 2, 9)],
      'b',
      undefined,
      [],
    ],
    [
      'a retried redraft ready while another is shown: it waits',
      [wf('a', 'ai_generated', 0, 1), wf('b', 'awaiting_user', 2, 9)],
      'b',
      undefined,
      ['a'],
    ],
    [
      'a draft being texted is newer than any shown',
      [wf('a', 'awaiting_user', 0, 9), wf('b', 'sms_sending', 2, 1)],
      'b',
      undefined,
      [],
    ],
  ])('%s', (_name, workflows, current, next, queued) => {
    expect(presentation(workflows)).toEqual({ current, presentNext: next, queued });
    expect(commandTarget(workflows)).toBe(current);
    expect(nextToPresent(workflows)).toBe(next);
  });

  it('accepts Date as well as ISO strings', () => {
    const a: OwnerWorkflow = { id: 'a', status: 'ai_generated', createdAt: new Date(at(2)) };
    const b: OwnerWorkflow = { id: 'b', status: 'ai_generated', createdAt: new Date(at(1)) };
    expect(nextToPresent([a, b])).toBe('b');
  });
});

describe('the acceptance scenario: two emails waiting, the owner sends 1', () => {
  it('the command applies to the draft last shown; the other is presented next', () => {
    // A arrives first and is presented; B's draft is ready meanwhile and waits.
    let owner = [wf('A', 'awaiting_user', 1, 2), wf('B', 'ai_generated', 3)];
    expect(commandTarget(owner)).toBe('A');
    expect(nextToPresent(owner)).toBeUndefined();
    // "1" → A is approved, leaving the slot; B is presented next.
    owner = [wf('A', 'user_approved', 1, 2), wf('B', 'ai_generated', 3)];
    expect(nextToPresent(owner)).toBe('B');
    // While B's text is on its way, a command targets B (and decide() refuses it as on its way).
    owner = [wf('A', 'reply_sent', 1, 2), wf('B', 'sms_sending', 3)];
    expect(commandTarget(owner)).toBe('B');
    owner = [wf('A', 'reply_sent', 1, 2), wf('B', 'awaiting_user', 3, 8)];
    expect(commandTarget(owner)).toBe('B');
  });
});

describe('holdsOwnerSlot', () => {
  it.each<[EmailWorkflowStatus, boolean, boolean]>([
    ['pending', false, false],
    ['ai_generating', false, false],
    ['ai_generated', false, true],
    ['sms_sending', true, true],
    ['awaiting_user', true, true],
    ['user_edit_requested', true, true],
    ['user_approved', false, false],
    ['user_ignored', false, false],
    ['reply_sent', false, false],
    ['failed', false, false],
    ['timeout', false, false],
    ['skipped', false, false],
  ])('%s: %s never shown, %s once shown', (status, fresh, shown) => {
    expect(holdsOwnerSlot({ status })).toBe(fresh);
    expect(holdsOwnerSlot({ status, presentedAt: at(1) })).toBe(shown);
  });
});

describe('properties', () => {
  const anyWorkflows = fc.uniqueArray(
    fc.record({
      id: fc.string({ minLength: 1, maxLength: 4 }),
      status: fc.constantFrom(...EMAIL_WORKFLOW_STATUSES),
      createdAt: fc.integer({ min: 0, max: 59 }).map(at),
      presentedAt: fc.option(fc.integer({ min: 0, max: 59 }).map(at), { nil: undefined }),
    }),
    { selector: (w) => w.id, maxLength: 8 },
  );

  it('never presents while a draft is texted or awaiting an answer; only ever presents a ready draft', () => {
    fc.assert(
      fc.property(anyWorkflows, (workflows) => {
        const next = nextToPresent(workflows);
        const busy = workflows.some((w) => w.status === 'sms_sending' || w.status === 'awaiting_user');
        if (busy) expect(next).toBeUndefined();
        if (next !== undefined) expect(workflows.find((w) => w.id === next)?.status).toBe('ai_generated');
        if (!busy && next === undefined) {
          expect(workflows.some((w) => w.status === 'ai_generated' && w.presentedAt !== undefined)).toBe(
            false,
          );
        }
      }),
    );
  });

  it('the command target always holds the slot; with none holding it, there is no target', () => {
    fc.assert(
      fc.property(anyWorkflows, (workflows) => {
        const target = commandTarget(workflows);
        if (target === undefined) expect(workflows.some(holdsOwnerSlot)).toBe(false);
        else expect(holdsOwnerSlot(workflows.find((w) => w.id === target)!)).toBe(true);
      }),
    );
  });

  it('order of input does not matter', () => {
    fc.assert(
      fc.property(anyWorkflows, (workflows) => {
        expect(presentation([...workflows].reverse())).toEqual(presentation(workflows));
      }),
    );
  });
});
