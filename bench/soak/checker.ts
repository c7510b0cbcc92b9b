import pg from 'pg';
import type { GatewayText } from '../../test/fakes/sms-gateway-fake.js';

/**
 * After a run: what the database and the SMS fake's record say, against what the driver posted.
 *
 * Terminal, per turn (a `collections` workflow; docs/collections.md, "Statuses"):
 * - `completed` (response_sent, superseded, no_reply, rejected) — done;
 * - `escalated` — a person owns it (must name its escalation);
 * - `opted_out`;
 * - `failed` — a peer failed past its retries; terminal only WITH its failure notice to managers;
 * - `awaiting_approval` — settled for the machine: a manager must decide (must have a pending
 *   queue item, or the conversation must be awaiting approval).
 * Not terminal: `processing` (gathering, drafting, or the reply is in the outbox) and `scheduled`
 * (the send window is always open in the soak, so nothing should be held).
 */

export const TERMINAL_STATES = ['completed', 'escalated', 'opted_out', 'failed', 'awaiting_approval'];

export type CheckInput = {
  databaseUrl: string;
  /** message_id → how many times the driver got an answer accepting it (202 or 200 duplicate). */
  posted: Map<string, number>;
  smsTexts: readonly GatewayText[];
  smsRepeats: number;
};

const REPLY_KEY = /^collections:([0-9a-f-]{36}):reply$/;

type Row = Record<string, unknown>;

export async function check(input: CheckInput) {
  const client = new pg.Client({ connectionString: input.databaseUrl });
  await client.connect();
  const q = async (text: string, values: unknown[] = []) => (await client.query(text, values)).rows as Row[];
  try {
    // 1. Every posted text stored exactly once.
    const stored = new Map<string, { n: number; wf: string | null; state: string | null }>();
    for (const r of await q(
      `select m.provider_message_id id, count(*)::int n, max(m.workflow_id) wf, max(w.state) state
         from sms_messages m left join workflows w on w.id::text = m.workflow_id
        where m.direction = 'in' and m.provider = 'sms-agent' group by 1`,
    )) {
      stored.set(String(r.id), {
        n: Number(r.n),
        wf: (r.wf as string) ?? null,
        state: (r.state as string) ?? null,
      });
    }
    const lost = [...input.posted.keys()].filter((id) => !stored.has(id));
    const storedTwice = [...stored].filter(([, s]) => s.n > 1).map(([id]) => id);
    const unexpected = [...stored.keys()].filter((id) => !input.posted.has(id));
    const textsByTurnState: Record<string, number> = {};
    const textsNotTerminal: string[] = [];
    for (const [id, s] of stored) {
      const key = s.state ?? 'no_turn';
      textsByTurnState[key] = (textsByTurnState[key] ?? 0) + 1;
      if (!s.state || !TERMINAL_STATES.includes(s.state)) textsNotTerminal.push(id);
    }

    // 2. Turns.
    const turns = await q(
      `select state, data->>'step' step, count(*)::int n from workflows where kind = 'collections'
        group by 1, 2 order by 1, 2`,
    );
    const turnsByState: Record<string, number> = {};
    const turnsByStep: Record<string, number> = {};
    for (const r of turns) {
      turnsByState[String(r.state)] = (turnsByState[String(r.state)] ?? 0) + Number(r.n);
      turnsByStep[`${String(r.state)}/${String(r.step)}`] = Number(r.n);
    }
    const turnsNotTerminal = Object.entries(turnsByState)
      .filter(([state]) => !TERMINAL_STATES.includes(state))
      .reduce((sum, [, n]) => sum + n, 0);
    const [failedWithoutNotice] = await q(
      `select count(*)::int n from workflows w where kind = 'collections' and state = 'failed'
          and not exists (select 1 from notices n where n.kind = 'failure'
                           and n.metadata->>'workflow_id' = 'workflow-' || w.id::text)`,
    );
    const [awaitingWithoutItem] = await q(
      `select count(*)::int n from workflows w where kind = 'collections' and state = 'awaiting_approval'
          and not exists (select 1 from collections_approvals a where a.workflow_id = w.id and a.status = 'pending')`,
    );
    const [escalatedWithoutEscalation] = await q(
      `select count(*)::int n from workflows w where kind = 'collections' and state = 'escalated'
          and not exists (select 1 from collections_escalations e where e.conversation_id = w.subject_key)`,
    );
    const sentTurns = await q(
      `select id::text id from workflows where kind = 'collections' and state = 'completed'
          and data->>'step' = 'response_sent'`,
    );

    // 3. The outbox and the texts out.
    const outbox = await q(`select channel, state, count(*)::int n from outbox group by 1, 2 order by 1, 2`);
    const outboxNotTerminal = outbox
      .filter((r) => r.state !== 'sent' && r.state !== 'failed')
      .reduce((sum, r) => sum + Number(r.n), 0);
    const sentKeys = new Set(
      (await q(`select idempotency_key k from outbox where channel = 'sms' and state = 'sent'`)).map((r) =>
        String(r.k),
      ),
    );
    const failedKeys = new Set(
      (await q(`select idempotency_key k from outbox where channel = 'sms' and state = 'failed'`)).map((r) =>
        String(r.k),
      ),
    );
    const [outboxRowsPerTurn] = await q(
      `select count(*)::int n from (select workflow_id from outbox where channel = 'sms' and workflow_id is not null
          and idempotency_key like 'collections:%:reply' group by 1 having count(*) > 1) t`,
    );
    const smsOut = await q(
      `select state, count(*)::int n from sms_messages where direction = 'out' group by 1 order by 1`,
    );
    const jobs = await q(`select kind, state, count(*)::int n from jobs group by 1, 2 order by 1, 2`);

    // 4. The SMS fake's record: what reached the "phones".
    const byKey = new Map<string, number>();
    const byTurn = new Map<string, number>();
    const byPhoneBodyTurn = new Map<string, number>();
    let withoutKey = 0;
    for (const t of input.smsTexts) {
      if (!t.idempotencyKey) withoutKey += 1;
      else byKey.set(t.idempotencyKey, (byKey.get(t.idempotencyKey) ?? 0) + 1);
      const turn = t.idempotencyKey ? REPLY_KEY.exec(t.idempotencyKey)?.[1] : undefined;
      if (turn) byTurn.set(turn, (byTurn.get(turn) ?? 0) + 1);
      const pbt = JSON.stringify([t.to, t.message, turn ?? t.idempotencyKey]);
      byPhoneBodyTurn.set(pbt, (byPhoneBodyTurn.get(pbt) ?? 0) + 1);
    }
    const keyTwice = [...byKey].filter(([, n]) => n > 1).length;
    const turnTwice = [...byTurn].filter(([, n]) => n > 1).length;
    const phoneBodyTurnTwice = [...byPhoneBodyTurn].filter(([, n]) => n > 1).length;
    const sentInDbNotAtFake = [...sentKeys].filter((k) => !byKey.has(k));
    const atFakeNotSentInDb = [...byKey.keys()].filter((k) => !sentKeys.has(k));
    const atFakeButFailedInDb = atFakeNotSentInDb.filter((k) => failedKeys.has(k));
    const sentTurnsWithoutText = sentTurns.filter((r) => !byTurn.has(String(r.id))).length;

    const counts = {
      posted: input.posted.size,
      posted_answers: [...input.posted.values()].reduce((a, b) => a + b, 0),
      stored: stored.size,
      lost: lost.length,
      stored_twice: storedTwice.length,
      unexpected_stored: unexpected.length,
      texts_not_terminal: textsNotTerminal.length,
      turns: Object.values(turnsByState).reduce((a, b) => a + b, 0),
      turns_not_terminal: turnsNotTerminal,
      failed_without_notice: Number(failedWithoutNotice?.n ?? 0),
      awaiting_without_item: Number(awaitingWithoutItem?.n ?? 0),
      escalated_without_escalation: Number(escalatedWithoutEscalation?.n ?? 0),
      outbox_not_terminal: outboxNotTerminal,
      outbox_rows_per_turn_over_one: Number(outboxRowsPerTurn?.n ?? 0),
      sms_texts_at_fake: input.smsTexts.length,
      sms_key_repeats_absorbed_by_fake: input.smsRepeats,
      sms_texts_without_key: withoutKey,
      duplicates_same_key: keyTwice,
      duplicates_same_turn: turnTwice,
      duplicates_same_phone_body_turn: phoneBodyTurnTwice,
      sent_in_db_not_at_fake: sentInDbNotAtFake.length,
      at_fake_not_sent_in_db: atFakeNotSentInDb.length,
      at_fake_but_failed_in_db: atFakeButFailedInDb.length,
      sent_turns_without_text: sentTurnsWithoutText,
    };
    const problems: string[] = [];
    const must0 = [
      'lost',
      'stored_twice',
      'unexpected_stored',
      'texts_not_terminal',
      'turns_not_terminal',
      'failed_without_notice',
      'awaiting_without_item',
      'escalated_without_escalation',
      'outbox_not_terminal',
      'outbox_rows_per_turn_over_one',
      'duplicates_same_key',
      'duplicates_same_turn',
      'duplicates_same_phone_body_turn',
      'sent_in_db_not_at_fake',
      'at_fake_not_sent_in_db',
      'sent_turns_without_text',
    ] as const;
    for (const name of must0) if (counts[name] !== 0) problems.push(`${name} = ${counts[name]}`);
    return {
      ok: problems.length === 0,
      problems,
      counts,
      texts_by_turn_state: textsByTurnState,
      turns_by_state: turnsByState,
      turns_by_state_step: turnsByStep,
      outbox,
      sms_out: smsOut,
      jobs,
      samples: {
        lost: lost.slice(0, 10),
        stored_twice: storedTwice.slice(0, 10),
        texts_not_terminal: textsNotTerminal.slice(0, 10),
        sent_in_db_not_at_fake: sentInDbNotAtFake.slice(0, 10),
        at_fake_not_sent_in_db: atFakeNotSentInDb.slice(0, 10),
      },
    };
  } finally {
    await client.end();
  }
}

/** RSS flatness: after the warm-up, the last third's mean against the first third's. */
export function rssSummary(
  samples: readonly { t: number; rssMb: number }[],
  warmupS: number,
  flatPct = 20,
): Record<string, unknown> {
  const after = samples.filter((s) => s.t >= warmupS);
  if (after.length < 6) return { samples: samples.length, note: 'too few samples after the warm-up' };
  const third = Math.floor(after.length / 3);
  const mean = (xs: readonly { rssMb: number }[]) => xs.reduce((a, s) => a + s.rssMb, 0) / xs.length;
  const first = mean(after.slice(0, third));
  const last = mean(after.slice(-third));
  const growthPct = ((last - first) / first) * 100;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    samples: samples.length,
    warmup_s: warmupS,
    min_mb: round(Math.min(...after.map((s) => s.rssMb))),
    max_mb: round(Math.max(...after.map((s) => s.rssMb))),
    first_third_mean_mb: round(first),
    last_third_mean_mb: round(last),
    growth_pct: round(growthPct),
    flat_threshold_pct: flatPct,
    flat: growthPct <= flatPct,
  };
}
