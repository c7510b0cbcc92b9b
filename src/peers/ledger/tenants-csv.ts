import { CsvSyntaxError, parseCsv, type CsvRecord } from './csv-parser.js';
import { centsFromText, InvalidAmountError } from './money.js';
import { checkTenantRecord, LedgerInputError, type TenantRecord } from './tenant-record.js';

/**
 * The tenant import file: a header row naming the columns (any order, case-insensitive), then one
 * tenant per row. Money is dollars as text ("1200", "1,200.50", "$75.50"); an empty optional cell
 * means "none". Every bad row is reported with its line, and the caller imports nothing when any
 * row is bad: half an import is harder to repair than none.
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
type Column = (typeof CSV_COLUMNS)[number];

const REQUIRED: readonly Column[] = ['tenant_id', 'name', 'phone', 'timezone', 'amount_owed'];

export type CsvLineError = { line: number; message: string };

export type TenantsCsv = { rows: { line: number; record: TenantRecord }[]; errors: CsvLineError[] };

export function tenantsFromCsv(text: string, defaultRegion: string): TenantsCsv {
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
  const rows: TenantsCsv['rows'] = [];
  const errors: CsvLineError[] = [];
  for (const csvRecord of body) {
    try {
      rows.push({ line: csvRecord.line, record: recordFromRow(csvRecord, columns.index, defaultRegion) });
    } catch (error) {
      if (!(error instanceof LedgerInputError)) throw error;
      errors.push({ line: csvRecord.line, message: error.message });
    }
  }
  errors.push(...duplicates(rows, 'tenantId', 'tenant_id'), ...duplicates(rows, 'phone', 'phone'));
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors };
}

function readHeader(header: CsvRecord): { index: Map<Column, number> } | { error: CsvLineError } {
  const index = new Map<Column, number>();
  for (const [i, raw] of header.fields.entries()) {
    const name = raw.trim().toLowerCase();
    if (!(CSV_COLUMNS as readonly string[]).includes(name)) {
      return {
        error: {
          line: header.line,
          message: `unknown column "${raw}"; the columns are ${CSV_COLUMNS.join(',')}`,
        },
      };
    }
    if (index.has(name as Column))
      return { error: { line: header.line, message: `column "${name}" appears twice` } };
    index.set(name as Column, i);
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
  return { index };
}

function recordFromRow(row: CsvRecord, index: Map<Column, number>, defaultRegion: string): TenantRecord {
  if (row.fields.length !== index.size) {
    throw new LedgerInputError('row', `has ${row.fields.length} fields; the header has ${index.size}`);
  }
  const cell = (column: Column): string => {
    const i = index.get(column);
    return i === undefined ? '' : (row.fields[i] ?? '').trim();
  };
  const optional = (column: Column): string | null => (cell(column) === '' ? null : cell(column));
  const portion = optional('tenant_portion');
  return checkTenantRecord(
    {
      tenantId: cell('tenant_id'),
      name: cell('name'),
      phone: cell('phone'),
      timezone: cell('timezone'),
      amountOwedCents: money('amount_owed', cell('amount_owed')),
      tenantPortionCents: portion === null ? null : money('tenant_portion', portion),
      dueDate: optional('due_date'),
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
