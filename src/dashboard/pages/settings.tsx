import type { Child } from 'hono/jsx';
import { degradationMode, type DependencyStatus } from '../../core/health/dependency-registry.js';
import type { PageRegistrar } from '../dashboard-env.js';
import { Layout } from '../layout.js';

/**
 * Read-only: what this process runs with. Thresholds, allowed hours, the chosen adapters, the
 * peers' health (as /health/dependencies checks it) and the email-reply settings. Secrets are
 * never shown; the owner's phone only by its last digits. Changing any of it means changing the
 * environment (docs/configuration.md) and restarting.
 */

/** +14155550100 → •••••••0100 */
export function maskPhone(phone: string | undefined): string {
  if (!phone) return 'not set';
  const tail = phone.slice(-4);
  return `${'•'.repeat(Math.max(0, phone.length - 4))}${tail}`;
}

const percent = (ratio: number) => `${Math.round(ratio * 1000) / 10}%`;
const hour = (h: number) => `${String(h).padStart(2, '0')}:00`;

function duration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} seconds`;
  const minutes = ms / 60_000;
  if (minutes < 120) return `${Math.round(minutes * 10) / 10} minutes`;
  return `${Math.round((minutes / 60) * 10) / 10} hours`;
}

function Fact(props: { term: string; children?: Child }) {
  return (
    <>
      <dt>{props.term}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

function HealthBadge(props: { status: DependencyStatus }) {
  const s = props.status;
  if (s.healthy) return <span class="badge ok">healthy</span>;
  return (
    <span class={s.critical ? 'badge bad' : 'badge warn'}>{s.critical ? 'down (critical)' : 'down'}</span>
  );
}

export const registerSettingsPages: PageRegistrar = (app, { core }) => {
  app.get('/settings', async (c) => {
    const { config } = core;
    const col = config.collections;
    const reply = config.emailReply;
    const choice = core.peers.choice;
    const health = await core.dependencies.checkAll();
    const mode = degradationMode(health);
    return c.html(
      <Layout title="Settings" active="settings" user={c.get('user')} csrfToken={c.get('csrfToken')}>
        <p class="muted">
          Read-only: these come from the environment at start (see docs/configuration.md). Change them there
          and restart.
        </p>

        <section class="card" aria-labelledby="thresholds">
          <h2 id="thresholds">Collections thresholds</h2>
          <dl class="facts">
            <Fact term="Sent without approval at confidence">≥ {percent(col.autoApprovalConfidence)}</Fact>
            <Fact term="Waits for a manager at confidence">
              ≥ {percent(col.manualApprovalMinConfidence)} and below {percent(col.autoApprovalConfidence)}
            </Fact>
            <Fact term="Escalated at confidence">below {percent(col.manualApprovalMinConfidence)}</Fact>
            <Fact term="Escalation when a tenant does not answer">{duration(col.escalationTimeoutMs)}</Fact>
            <Fact term="Payment plan: longest">{`${col.maxPaymentWeeks} weeks`}</Fact>
            <Fact term="Payment plan: smallest weekly payment">{`$${col.minWeeklyPayment}`}</Fact>
            <Fact term="Payment plan: starts within">{`${col.planMaxStartDays} days`}</Fact>
            <Fact term="Payment plan: grace before a missed payment">{`${col.planGraceDays} days`}</Fact>
            <Fact term="Texts answered as one turn within">{duration(col.turnCoalesceMs)}</Fact>
            <Fact term="Opt-out line">{col.optOutLine}</Fact>
          </dl>
        </section>

        <section class="card" aria-labelledby="hours">
          <h2 id="hours">Allowed hours</h2>
          <p>
            Texts to tenants go out between {hour(col.sendWindow.startHour)} and{' '}
            {hour(col.sendWindow.endHour)}, in each tenant's own time zone; outside them they wait for the
            next window.
          </p>
        </section>

        <section class="card" aria-labelledby="providers">
          <h2 id="providers">Providers in use</h2>
          <dl class="facts">
            <Fact term="AI">{choice.ai}</Fact>
            <Fact term="SMS">{choice.sms}</Fact>
            <Fact term="Email in">{choice.emailSource}</Fact>
            <Fact term="Email out">{choice.emailSender}</Fact>
            <Fact term="Tenant ledger">{choice.ledger}</Fact>
            <Fact term="Manager notices">{choice.notify.join(', ')}</Fact>
          </dl>
        </section>

        <section class="card" aria-labelledby="health">
          <h2 id="health">Peers' health</h2>
          <p>
            Mode: <strong>{mode}</strong>
          </p>
          <div class="table-wrap" role="region" aria-label="Peers' health table" tabindex={0}>
            <table>
              <caption class="visually-hidden">Each dependency and whether it answers</caption>
              <thead>
                <tr>
                  <th scope="col">Dependency</th>
                  <th scope="col">Status</th>
                  <th scope="col">Adapter</th>
                  <th scope="col">Circuit</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(health).map(([name, status]) => (
                  <tr>
                    <th scope="row">{name}</th>
                    <td>
                      <HealthBadge status={status} />
                      {status.detail ? <span class="muted"> {status.detail}</span> : null}
                    </td>
                    <td>{status.adapter ?? '—'}</td>
                    <td>{status.circuit ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>

        <section class="card" aria-labelledby="email-reply">
          <h2 id="email-reply">Email auto-reply</h2>
          <dl class="facts">
            <Fact term="Owner must answer within">{duration(reply.userResponseTimeoutMs)}</Fact>
            <Fact term="Redrafts per email">{String(reply.maxEditIterations)}</Fact>
            <Fact term="Only answered">
              {reply.allow.length > 0 ? `${reply.allow.length} addresses or domains` : 'everyone'}
            </Fact>
            <Fact term="Never answered">
              {reply.deny.length > 0 ? `${reply.deny.length} addresses or domains` : 'nobody listed'}
            </Fact>
          </dl>
          <h3 id="mailboxes">Mailboxes</h3>
          <div class="table-wrap" role="region" aria-label="Mailboxes table" tabindex={0}>
            <table aria-labelledby="mailboxes">
              <thead>
                <tr>
                  <th scope="col">Mailbox</th>
                  <th scope="col">Mail from</th>
                  <th scope="col">Owner's phone</th>
                  <th scope="col">Owner</th>
                </tr>
              </thead>
              <tbody>
                {config.mailboxes.map((m) => (
                  <tr>
                    <th scope="row">{m.name}</th>
                    <td>{m.source === 'imap' ? `IMAP ${m.imapMailbox}` : 'ingest API'}</td>
                    <td>
                      {m.ownerPhone
                        ? `${maskPhone(m.ownerPhone)}${m.sandboxOwner ? ' (sandbox)' : ''}`
                        : 'not set: mail is stored, not answered'}
                    </td>
                    <td>{m.ownerName ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>

        <section class="card" aria-labelledby="sessions">
          <h2 id="sessions">Dashboard sessions</h2>
          <dl class="facts">
            <Fact term="Signed out when idle for">{duration(config.dashboard.sessionIdleMs)}</Fact>
            <Fact term="Signed out after at most">{duration(config.dashboard.sessionMaxMs)}</Fact>
          </dl>
        </section>
      </Layout>,
    );
  });
};
