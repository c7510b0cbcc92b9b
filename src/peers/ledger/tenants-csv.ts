import { CsvSyntaxError, parseCsv, type CsvRecord } from './csv-parser.js';
import { centsFromText, InvalidAmountError } from './money.js';
import {
  checkTenantRecord,
  dueDateFromInput,
  LedgerInputError,
  MAX_DAYS_LATE,
  type TenantRecord,
} from './tenant-record.js';

/**
 * The tenant import file: a header row naming the columns (any order, case-insensitive), then one
 * tenant per row. Money is dollars as text ("1200", "1,200.50", "$75.50"); an empty optional cell
 * means "none". Every bad row is reported with its line, and the caller imports nothing when any
 * row is bad: half an import is harder to repair than none.
 *
 * The header may also use the seed's field names: `phone_number` for `phone`, and `days_late`
 * (whole days, counted back from today in the tenant's timezone) instead of `due_date`. Errors
 * name the column as the header wrote it.
 */

export const CSV_COLUMNS = [
  'tenant_id',
  'name',
  'phone',
  'timezone',
  'amount_owed',
  'tenant_portion',
  'due_date',
  'property_name',
  'unit',
] as const;
type Column = (typeof CSV_COLUMNS)[number] | 'days_late';

/** Every name a header cell may have, and the column it stands for. */
const HEADER_NAMES: ReadonlyMap<string, Column> = new Map<string, Column>([
  ...CSV_COLUMNS.map((c) => [c, c] as const),
  ['phone_number', 'phone'],
  ['days_late', 'days_late'],
]);
const ALIASES_NOTE = '(phone_number may stand for phone, days_late for due_date)';

const REQUIRED: readonly Column[] = ['tenant_id', 'name', 'phone', 'timezone', 'amount_owed'];

export type CsvLineError = { line: number; message: string };

export type TenantsCsv = { rows: { line: number; record: TenantRecord }[]; errors: CsvLineError[] };

/** `now` is today for a days_late column (in each tenant's timezone). */
export function tenantsFromCsv(text: string, defaultRegion: string, now: Date): TenantsCsv {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError)
      return { rows: [], errors: [{ line: error.line, message: error.message }] };
    throw error;
  }
  const [header, ...body] = records;
  if (!header)
    return {
      rows: [],
      errors: [
        {
          line: 1,
          message: `the file is empty; the first line must be the header: ${CSV_COLUMNS.join(',')}`,
        },
      ],
    };
  const columns = readHeader(header);
  if ('error' in columns) return { rows: [], errors: [columns.error] };
  const { index, names } = columns;
  /** A field as this header names it (phone_number when the file said so). */
  const named = (field: string) => names.get(field as Column) ?? field;
  const rows: TenantsCsv['rows'] = [];
  const errors: CsvLineError[] = [];
  for (const csvRecord of body) {
    try {
      rows.push({ line: csvRecord.line, record: recordFromRow(csvRecord, index, defaultRegion, now) });
    } catch (error) {
      if (!(error instanceof LedgerInputError)) throw error;
      errors.push({ line: csvRecord.line, message: `${named(error.field)}: ${error.detail}` });
    }
  }
  errors.push(
    ...duplicates(rows, 'tenantId', named('tenant_id')),
    ...duplicates(rows, 'phone', named('phone')),
  );
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors };
}

type Header = { index: Map<Column, number>; names: Map<Column, string> };

function readHeader(header: CsvRecord): Header | { error: CsvLineError } {
  const index = new Map<Column, number>();
  const names = new Map<Column, string>();
  const fail = (message: string) => ({ error: { line: header.line, message } });
  for (const [i, raw] of header.fields.entries()) {
    const name = raw.trim().toLowerCase();
    const column = HEADER_NAMES.get(name);
    if (column === undefined) {
      return fail(`unknown column "${raw}"; the columns are ${CSV_COLUMNS.join(',')} ${ALIASES_NOTE}`);
    }
    const earlier = names.get(column);
    if (earlier === name) return fail(`column "${name}" appears twice`);
    if (earlier !== undefined) return fail(`columns "${earlier}" and "${name}" are the same; keep one`);
    index.set(column, i);
    names.set(column, name);
  }
  if (index.has('due_date') && index.has('days_late')) {
    return fail('give a due_date or a days_late column, not both');
  }
  const missing = REQUIRED.filter((c) => !index.has(c));
  if (missing.length > 0) {
    return {
      error: {
        line: header.line,
        message: `missing column${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
      },
    };
  }
  return { index, names };
}

function recordFromRow(
  row: CsvRecord,
  index: Map<Column, number>,
  defaultRegion: string,
  now: Date,
): TenantRecord {
  if (row.fields.length !== index.size) {
    throw new LedgerInputError('row', `has ${row.fields.length} fields; the header has ${index.size}`);
  }
  const cell = (column: Column): string => {
    const i = index.get(column);
    return i === undefined ? '' : (row.fields[i] ?? '').trim();
  };
  const optional = (column: Column): string | null => (cell(column) === '' ? null : cell(column));
  const portion = optional('tenant_portion');
  const days = optional('days_late');
  const dueDate = dueDateFromInput(
    {
      timezone: cell('timezone'),
      ...(index.has('days_late')
        ? { daysLate: days === null ? null : wholeDays(days) }
        : { dueDate: optional('due_date') }),
    },
    now,
  );
  return checkTenantRecord(
    {
      tenantId: cell('tenant_id'),
      name: cell('name'),
      phone: cell('phone'),
      timezone: cell('timezone'),
      amountOwedCents: money('amount_owed', cell('amount_owed')),
      tenantPortionCents: portion === null ? null : money('tenant_portion', portion),
      dueDate,
      propertyName: optional('property_name'),
      unit: optional('unit'),
    },
    defaultRegion,
  );
}

function money(field: string, text: string): number {
  try {
    return centsFromText(text);
  } catch (error) {
    if (error instanceof InvalidAmountError) throw new LedgerInputError(field, error.message);
    throw error;
  }
}

function wholeDays(text: string): number {
  if (!/^\d{1,6}$/.test(text)) {
    throw new LedgerInputError('days_late', `must be a whole number of days from 0 to ${MAX_DAYS_LATE}`);
  }
  return Number(text);
}

/** A tenant id or phone number on two rows: the later row is the error, naming the first. */
function duplicates(rows: TenantsCsv['rows'], key: 'tenantId' | 'phone', field: string): CsvLineError[] {
  const first = new Map<string, number>();
  const errors: CsvLineError[] = [];
  for (const { line, record } of rows) {
    const seen = first.get(record[key]);
    if (seen === undefined) first.set(record[key], line);
    else errors.push({ line, message: `${field}: the same as on line ${seen}` });
  }
  return errors;
}
