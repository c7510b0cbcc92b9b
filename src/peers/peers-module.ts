import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { MailboxConfig } from '../config/mailboxes.js';
import type { Db } from '../core/db/database.js';
import type { DependencyCheck } from '../core/health/dependency-registry.js';
import { inboundRedeliveryHandler } from '../core/inbound/inbound-delivery.js';
import type { OutboundChannel } from '../core/outbox/outbox.js';
import type { Clock, Ids } from '../core/runtime.js';
import type { HttpModule } from '../app.js';
import type { JobHandler } from '../core/jobs/job-worker.js';
import type { Metrics } from '../observability/metrics.js';
import type { AiPort, DraftRequest } from './ai/ai-port.js';
import { withAiFallback } from './ai/fallback-ai.js';
import { createLlmAi } from './ai/llm-ai.js';
import { classifyIntent, createRulesAi, extractPaymentPlan, latestTenantText } from './ai/rules/index.js';
import { createEmailInbox, type EmailInbox } from './email/email-intake.js';
import { DEFAULT_MAILBOX, type EmailSender, type EmailSource } from './email/email-port.js';
import { createEmailRoutes } from './email/email-routes.js';
import { createImapSource } from './email/imap-source.js';
import { createSmtpSender, emailOutboundChannel, mailboxChannel } from './email/smtp-sender.js';
import { createBuiltinLedger } from './ledger/builtin-ledger.js';
import { createCollectionsMonitorLedger } from './ledger/collections-monitor.js';
import type { LedgerPort } from './ledger/ledger-port.js';
import { ledgerRoutesModule } from './ledger/ledger-routes.js';
import { createEmailNotifyChannel } from './notify/email-notify.js';
import { noticeRoutesModule } from './notify/notice-routes.js';
import { createNotificationServiceChannel } from './notify/notification-service.js';
import { createNotifier, type Notifier } from './notify/notifier.js';
import { notifyOutboundChannel } from './notify/notify-channel.js';
import type { NotifyChannel } from './notify/notify-port.js';
import { createWebhookNotifyChannel } from './notify/webhook-notify.js';
import {
  guardedDependency,
  makeGuardFactory,
  probeHealthEndpoint,
  type GuardFactory,
} from './peer-guards.js';
import type { PeerGuard } from './resilience.js';
import { choosePeers, imapEndpoint, smtpEndpoint, type PeerChoice } from './select.js';
import { createDevOutboxSender } from './sms/dev-outbox.js';
import { smsOutboundChannel } from './sms/sms-channel.js';
import { createSmsAgentSender } from './sms/sms-agent.js';
import { createSmsGatewaySender } from './sms/sms-gateway.js';
import type { SmsSender } from './sms/sms-port.js';
import { createSmsInbox, smsRoutesModule, type SmsInbox } from './sms/sms-routes.js';
import { createTwilioSender } from './sms/twilio.js';

/**
 * The composition of the peers: one adapter per port, chosen from the configuration by
 * choosePeers, each behind its own guard. Workflows receive `Peers` (ports only); the service
 * gets the routes, outbound channels, jobs and dependency checks to register.
 */

export type Peers = {
  choice: PeerChoice;
  ai: AiPort;
  sms: { sender: SmsSender; inbox: SmsInbox; maxSegments: number; defaultRegion: string };
  email: {
    inbox: EmailInbox;
    /** The default (first) mailbox's sender and address: notices by email leave from it. */
    sender: EmailSender;
    ownAddress: string | undefined;
    /** Every configured mailbox by name (config.mailboxes). */
    mailboxes: ReadonlyMap<string, MailboxPeers>;
  };
  ledger: LedgerPort;
  notifier: Notifier;
};

/** One mailbox's own peers: its SMTP sender (as the outbox channel `channel`) and its IMAP reader. */
export type MailboxPeers = {
  name: string;
  sender: EmailSender;
  channel: string;
  ownAddress: string | undefined;
  source: EmailSource | undefined;
};

export type PeerRuntime = {
  peers: Peers;
  http: HttpModule[];
  channels: OutboundChannel[];
  jobs: JobHandler[];
  dependencies: DependencyCheck[];
  /** Starts the mailbox reader (worker roles only); stops it on shutdown. */
  start(): Promise<void>;
  stop(): Promise<void>;
};

export type PeerDeps = { config: Config; db: Db; clock: Clock; ids: Ids; logger: Logger; metrics: Metrics };

/** Seed names where the seed's adapter is in use; see docs/peers.md. */
const AI_NAMES = {
  rules: 'ai_rules',
  openai: 'openai',
  anthropic: 'anthropic',
  'openai-compatible': 'openai_compatible',
};
const SMS_NAMES = {
  twilio: 'twilio',
  'sms-agent': 'sms_agent',
  'sms-gateway': 'sms_gateway',
  outbox: 'sms_outbox',
};

export function createPeerRuntime(deps: PeerDeps): PeerRuntime {
  const { config, db, clock, ids, logger, metrics } = deps;
  const settings = config.peers;
  const choice = choosePeers(settings, config.publicBaseUrl);
  logger.info(
    {
      ai: choice.ai,
      sms: choice.sms,
      emailSource: choice.emailSource,
      emailSender: choice.emailSender,
      ledger: choice.ledger,
      notify: choice.notify,
      reasons: choice.reasons,
    },
    'peers chosen',
  );
  const guardFor = makeGuardFactory({ breaker: settings.breaker, metrics, logger });
  const dependencies: DependencyCheck[] = [];

  const ai = buildAi(choice, deps, guardFor, dependencies);

  const smsGuard = guardFor(SMS_NAMES[choice.sms], settings.sms);
  const smsSender = buildSmsSender(choice, deps, smsGuard);
  const fromNumber = settings.sms.twilioPhoneNumber ?? settings.sms.fromNumber;
  const smsInbox = createSmsInbox({ logger });
  dependencies.push(
    guardedDependency({
      name: SMS_NAMES[choice.sms],
      role: 'outbound',
      adapter: choice.sms,
      ...(choice.sms === 'outbox' ? {} : { guard: smsGuard }),
      ...seedProbe(
        choice.sms === 'sms-agent'
          ? settings.sms.agentUrl
          : choice.sms === 'sms-gateway'
            ? settings.sms.gatewayUrl
            : undefined,
      ),
    }),
  );

  const emailInbox = createEmailInbox({ db, clock, logger });
  const mailboxes = config.mailboxes.map((mailbox) => buildMailbox(mailbox, deps, guardFor, dependencies));
  const defaultMailbox = mailboxes[0]!;
  const emailSender = defaultMailbox.sender;

  const ledger = buildLedger(choice, deps, guardFor, dependencies);

  const notifyChannels = buildNotifyChannels(choice, deps, guardFor, emailSender, dependencies);
  const notifier = createNotifier({ channels: choice.notify });

  const peers: Peers = {
    choice,
    ai,
    sms: {
      sender: smsSender,
      inbox: smsInbox,
      maxSegments: settings.sms.maxSegments,
      defaultRegion: settings.sms.defaultRegion,
    },
    email: {
      inbox: emailInbox,
      sender: emailSender,
      ownAddress: defaultMailbox.ownAddress,
      mailboxes: new Map(mailboxes.map((m) => [m.name, m])),
    },
    ledger,
    notifier,
  };

  const runsJobs = config.role !== 'api';
  return {
    peers,
    http: [
      smsRoutesModule({
        db,
        clock,
        ids,
        inbox: smsInbox,
        defaultRegion: settings.sms.defaultRegion,
        publicBaseUrl: config.publicBaseUrl,
        twilioAuthToken: settings.sms.twilioAuthToken,
        ownNumber: fromNumber,
        sandbox: choice.sms === 'outbox',
      }),
      createEmailRoutes({ inbox: emailInbox, clock, mailboxes: mailboxes.map((m) => m.name) }),
      ledgerRoutesModule({ db, clock, ledger, defaultRegion: settings.sms.defaultRegion }),
      noticeRoutesModule({ db, clock }),
    ],
    channels: [
      smsOutboundChannel(smsSender, {
        db,
        clock,
        maxSegments: settings.sms.maxSegments,
        defaultRegion: settings.sms.defaultRegion,
        fromNumber,
      }),
      ...mailboxes.map((m) => emailOutboundChannel(m.sender, m.channel)),
      ...notifyChannels.map(notifyOutboundChannel),
    ],
    jobs: [
      inboundRedeliveryHandler({
        sms: (tx, payload) => smsInbox.redeliver(tx, payload),
        email: (tx, payload) => emailInbox.redeliver(tx, payload),
      }),
    ],
    dependencies,
    async start() {
      // One reader per mailbox is enough; a second would only repeat work the claims then drop.
      if (!runsJobs) return;
      for (const m of mailboxes) {
        await m.source?.start((email) => emailInbox.sink({ ...email, mailbox: m.name }));
      }
    },
    async stop() {
      if (runsJobs) for (const m of mailboxes) await m.source?.stop();
    },
  };
}

function buildAi(
  choice: PeerChoice,
  deps: PeerDeps,
  guardFor: GuardFactory,
  dependencies: DependencyCheck[],
): AiPort {
  const rules = createRulesAi();
  if (choice.ai === 'rules') {
    dependencies.push(guardedDependency({ name: AI_NAMES.rules, role: 'ai', adapter: 'rules' }));
    return rules;
  }
  const ai = deps.config.peers.ai;
  const guard = guardFor(AI_NAMES[choice.ai], ai);
  dependencies.push(guardedDependency({ name: AI_NAMES[choice.ai], role: 'ai', adapter: choice.ai, guard }));
  const anthropic = choice.ai === 'anthropic';
  const llm = createLlmAi({
    provider: choice.ai,
    apiKey: anthropic ? ai.anthropicApiKey : ai.openaiApiKey,
    model: anthropic ? ai.anthropicModel : ai.openaiModel,
    baseUrl: anthropic ? ai.anthropicBaseUrl : ai.openaiBaseUrl,
    guard,
    crossCheck: rulesCrossCheck,
    onInvalidOutput: (provider, reason) => deps.metrics.aiInvalidOutputs.inc({ provider, reason }),
  });
  return withAiFallback(llm, rules, guard);
}

/** The rules engine's reading of a tenant text, which an LLM draft must agree with to keep its confidence. */
function rulesCrossCheck(request: DraftRequest) {
  if (request.kind !== 'collections_reply') return undefined;
  const text = latestTenantText(request.conversation);
  const plan = extractPaymentPlan(text, request.today);
  return { intent: classifyIntent(text).intent, ...(plan ? { plan } : {}) };
}

function buildSmsSender(choice: PeerChoice, deps: PeerDeps, guard: PeerGuard): SmsSender {
  const sms = deps.config.peers.sms;
  switch (choice.sms) {
    case 'twilio':
      return createTwilioSender({
        guard,
        baseUrl: sms.twilioBaseUrl,
        accountSid: sms.twilioAccountSid ?? '',
        authToken: sms.twilioAuthToken ?? '',
        from: sms.twilioPhoneNumber,
        messagingServiceSid: sms.twilioMessagingServiceSid,
        publicBaseUrl: deps.config.publicBaseUrl,
        clock: deps.clock,
      });
    case 'sms-agent':
      return createSmsAgentSender({ guard, baseUrl: sms.agentUrl ?? '' });
    case 'sms-gateway':
      return createSmsGatewaySender({ guard, baseUrl: sms.gatewayUrl ?? '' });
    case 'outbox':
      return createDevOutboxSender({
        db: deps.db,
        clock: deps.clock,
        ids: deps.ids,
        fromNumber: sms.fromNumber,
      });
  }
}

function buildLedger(
  choice: PeerChoice,
  deps: PeerDeps,
  guardFor: GuardFactory,
  dependencies: DependencyCheck[],
): LedgerPort {
  const url = deps.config.peers.ledger.collectionsMonitorUrl;
  if (choice.ledger === 'builtin' || !url) {
    dependencies.push(guardedDependency({ name: 'ledger_builtin', role: 'ledger', adapter: 'builtin' }));
    return createBuiltinLedger(deps.db, deps.clock);
  }
  const guard = guardFor('collections_monitor', {
    timeoutMs: deps.config.peers.ledger.timeoutMs,
    maxConcurrency: 8,
  });
  dependencies.push(
    guardedDependency({
      name: 'collections_monitor',
      role: 'ledger',
      adapter: 'collections-monitor',
      guard,
      ...seedProbe(url),
    }),
  );
  return createCollectionsMonitorLedger({
    baseUrl: url,
    guard,
    defaultRegion: deps.config.peers.sms.defaultRegion,
    onInvalidRecord: (problem) =>
      deps.logger.warn({ peer: 'collections_monitor', ...problem }, 'unusable tenant record skipped'),
  });
}

/**
 * A mailbox's sender and reader. The default mailbox keeps the single-mailbox names (channel
 * `email`, checks `smtp`/`imap`); another is suffixed with its name.
 */
function buildMailbox(
  mailbox: MailboxConfig,
  deps: PeerDeps,
  guardFor: GuardFactory,
  dependencies: DependencyCheck[],
): MailboxPeers {
  const { db, clock, logger } = deps;
  const email = deps.config.peers.email;
  const named = (base: string) => (mailbox.name === DEFAULT_MAILBOX ? base : `${base}:${mailbox.name}`);
  const smtp = smtpEndpoint(mailbox);
  const smtpGuard = smtp
    ? guardFor(named('smtp'), { timeoutMs: email.smtpTimeoutMs, maxConcurrency: 4 })
    : undefined;
  const sender: EmailSender =
    smtp && smtpGuard
      ? createSmtpSender({
          ...smtp,
          user: mailbox.address,
          password: mailbox.password,
          from: mailbox.address ?? '',
          timeoutMs: email.smtpTimeoutMs,
          tlsRejectUnauthorized: email.tlsRejectUnauthorized,
          guard: smtpGuard,
        })
      : devEmailOutbox;
  dependencies.push(
    guardedDependency({
      name: named(smtp ? 'smtp' : 'email_outbox'),
      role: 'outbound',
      adapter: sender.name,
      ...(smtpGuard ? { guard: smtpGuard } : {}),
    }),
  );
  let source: EmailSource | undefined;
  if (mailbox.source === 'imap') {
    const imap = createImapSource({
      ...imapEndpoint(mailbox),
      user: mailbox.address ?? '',
      password: mailbox.password ?? '',
      mailbox: mailbox.imapMailbox,
      pollIntervalMs: email.pollIntervalSeconds * 1000,
      tlsRejectUnauthorized: email.tlsRejectUnauthorized,
      db,
      checkpointName: named(`imap:${mailbox.address ?? ''}:${mailbox.imapMailbox}`),
      logger,
      clock,
    });
    dependencies.push(
      guardedDependency({
        name: named('imap'),
        role: 'inbound',
        adapter: 'imap',
        healthy: () => imap.healthy(),
      }),
    );
    source = imap;
  }
  return {
    name: mailbox.name,
    sender,
    channel: mailboxChannel(mailbox.name),
    ownAddress: mailbox.address,
    source,
  };
}

function buildNotifyChannels(
  choice: PeerChoice,
  deps: PeerDeps,
  guardFor: GuardFactory,
  emailSender: EmailSender,
  dependencies: DependencyCheck[],
): NotifyChannel[] {
  const notify = deps.config.peers.notify;
  const limits = { timeoutMs: notify.timeoutMs, maxConcurrency: 4 };
  const channels: NotifyChannel[] = [];
  for (const name of choice.notify) {
    if (name === 'notification-service' && notify.notificationServiceUrl) {
      const guard = guardFor('notification_service', limits);
      channels.push(createNotificationServiceChannel({ baseUrl: notify.notificationServiceUrl, guard }));
      dependencies.push(
        guardedDependency({
          name: 'notification_service',
          role: 'notify',
          adapter: name,
          guard,
          ...seedProbe(notify.notificationServiceUrl),
        }),
      );
    }
    if (name === 'webhook' && notify.webhookUrl) {
      const guard = guardFor('notify_webhook', limits);
      channels.push(
        createWebhookNotifyChannel({
          url: notify.webhookUrl,
          guard,
          ...(notify.webhookSecret ? { secret: notify.webhookSecret } : {}),
        }),
      );
      dependencies.push(guardedDependency({ name: 'notify_webhook', role: 'notify', adapter: name, guard }));
    }
    if (name === 'email' && notify.emailTo) {
      const domain = deps.config.peers.email.address?.split('@')[1];
      channels.push(
        createEmailNotifyChannel({
          sender: emailSender,
          to: notify.emailTo,
          ...(domain ? { messageIdDomain: domain } : {}),
        }),
      );
    }
  }
  return channels;
}

function seedProbe(url: string | undefined): { probe?: (signal: AbortSignal) => Promise<void> } {
  return url ? { probe: (signal) => probeHealthEndpoint(url, signal) } : {};
}

/**
 * With no SMTP server configured, replies are kept in the outbox (state sent, provider id
 * `dev-outbox:<Message-ID>`) and shown by the dashboard; nothing leaves the machine.
 */
const devEmailOutbox: EmailSender = {
  name: 'email-outbox',
  send: async (email) => ({ providerId: `dev-outbox:${email.messageId}` }),
};
