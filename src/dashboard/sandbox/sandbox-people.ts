import type { CoreServices } from '../../main.js';
import { listTenants } from '../../peers/ledger/builtin-ledger.js';
import type { Tenant } from '../../peers/ledger/ledger-port.js';
import { ownerLines, type OwnerLine } from './sandbox-setup.js';

/**
 * The people the sandbox phone can be: each mailbox owner, and the tenants of the ledger. A person
 * is named in forms and links as `owner:<mailbox>` or `tenant:<tenant id>` and resolved to a phone
 * here, on the server, so a form can never text as an arbitrary number.
 */

export type SandboxPerson =
  | { kind: 'owner'; key: string; label: string; phone: string; mailbox: string; address: string | undefined }
  | { kind: 'tenant'; key: string; label: string; phone: string; tenant: Tenant };

export const TENANT_LIST_LIMIT = 100;
const LEDGER_TIMEOUT_MS = 5_000;

export type SandboxPeople = {
  owners: SandboxPerson[];
  tenants: SandboxPerson[];
  /** Why the tenant list is empty or short, when the ledger could not be read. */
  ledgerProblem: string | undefined;
};

export async function sandboxPeople(core: CoreServices): Promise<SandboxPeople> {
  const owners = ownerLines(core.config).map(ownerPerson);
  let tenants: Tenant[] = [];
  let ledgerProblem: string | undefined;
  try {
    tenants =
      core.peers.ledger.name === 'builtin'
        ? await listTenants(core.db, core.clock.now(), { limit: TENANT_LIST_LIMIT })
        : (await core.peers.ledger.listDelinquent(AbortSignal.timeout(LEDGER_TIMEOUT_MS))).slice(
            0,
            TENANT_LIST_LIMIT,
          );
  } catch (error) {
    core.logger.warn({ err: error }, 'sandbox: the ledger could not be read');
    ledgerProblem = 'The ledger could not be read just now, so no tenants are listed.';
  }
  const ownerPhones = new Set(owners.map((o) => o.phone));
  return {
    owners,
    // A tenant with an owner's number would be the owner: the email workflow takes those texts.
    tenants: tenants.filter((t) => !ownerPhones.has(t.phone)).map(tenantPerson),
    ledgerProblem,
  };
}

export function findPerson(people: SandboxPeople, key: string): SandboxPerson | undefined {
  return [...people.owners, ...people.tenants].find((p) => p.key === key);
}

function ownerPerson(line: OwnerLine): SandboxPerson {
  return {
    kind: 'owner',
    key: `owner:${line.mailbox}`,
    label: `Mailbox owner${line.mailbox === 'default' ? '' : ` (${line.mailbox})`}, ${line.phone}`,
    phone: line.phone,
    mailbox: line.mailbox,
    address: line.address,
  };
}

function tenantPerson(tenant: Tenant): SandboxPerson {
  return {
    kind: 'tenant',
    key: `tenant:${tenant.tenantId}`,
    label: `${tenant.name} (tenant ${tenant.tenantId}), ${tenant.phone}`,
    phone: tenant.phone,
    tenant,
  };
}
