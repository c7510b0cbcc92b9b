import type { Config } from '../../config/config.js';
import type { CoreServices } from '../../main.js';
import { DEV_OUTBOX_NUMBER, DEV_OUTBOX_PROVIDER } from '../../peers/sms/dev-outbox.js';

/**
 * Who the sandbox phone can play, read from the configuration: the mailbox owners (one per
 * configured mailbox with an owner phone) and our own number. The sandbox is on only while the
 * dev outbox carries our texts, since otherwise real texts would go out to real phones.
 */

export type OwnerLine = { mailbox: string; phone: string; address: string | undefined };

export function sandboxEnabled(core: Pick<CoreServices, 'peers'>): boolean {
  return core.peers.sms.sender.name === DEV_OUTBOX_PROVIDER;
}

/**
 * The mailbox owners' phones, one line per configured mailbox with an owner (two mailboxes may
 * share one). With nothing configured, the default mailbox's owner is the sandbox number
 * (config/mailboxes.ts).
 */
export function ownerLines(config: Config): OwnerLine[] {
  return config.mailboxes.flatMap((m) =>
    m.ownerPhone ? [{ mailbox: m.name, phone: m.ownerPhone, address: m.address }] : [],
  );
}

/** The number our texts come from, as the dev outbox and the sandbox route record it. */
export function ourNumber(config: Config): string {
  return config.peers.sms.twilioPhoneNumber ?? config.peers.sms.fromNumber ?? DEV_OUTBOX_NUMBER;
}
