/**
 * A small RFC 4180 reader for the tenant import. No CSV library is installed, and the import only
 * needs records of strings: quoted fields (commas, doubled quotes and line breaks inside quotes),
 * CRLF, LF or lone CR line ends, a UTF-8 byte order mark (spreadsheets write one), and an
 * optional final line break.
 *
 * Stricter than many readers on purpose: a quote inside an unquoted field, text after a closing
 * quote and an unclosed quote are errors with a line number, because a silently misread money
 * column is worse than a refused file.
 */

export type CsvRecord = {
  /** 1-based physical line where the record starts (a quoted field may span lines). */
  line: number;
  fields: string[];
};

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

type Cursor = { text: string; at: number; line: number };

export function parseCsv(input: string): CsvRecord[] {
  const cursor: Cursor = { text: input.startsWith('\uFEFF') ? input.slice(1) : input, at: 0, line: 1 };
  const records: CsvRecord[] = [];
  while (cursor.at < cursor.text.length) {
    const line = cursor.line;
    const fields = readRecord(cursor);
    // A blank line is not a record with one empty field: spreadsheets leave them at the end.
    if (fields.length === 1 && fields[0] === '') continue;
    records.push({ line, fields });
  }
  return records;
}

/** Reads fields up to and including the record's line break. */
function readRecord(cursor: Cursor): string[] {
  const fields: string[] = [];
  for (;;) {
    fields.push(cursor.text[cursor.at] === '"' ? readQuoted(cursor) : readBare(cursor));
    const next = cursor.text[cursor.at];
    if (next === ',') {
      cursor.at += 1;
      continue;
    }
    skipLineBreak(cursor);
    return fields;
  }
}

function readBare(cursor: Cursor): string {
  const { text } = cursor;
  const start = cursor.at;
  while (cursor.at < text.length) {
    const ch = text[cursor.at];
    if (ch === ',' || ch === '\n' || ch === '\r') break;
    if (ch === '"')
      throw new CsvSyntaxError(cursor.line, 'a quote inside an unquoted field (quote the whole field)');
    cursor.at += 1;
  }
  return text.slice(start, cursor.at);
}

function readQuoted(cursor: Cursor): string {
  const { text } = cursor;
  const startLine = cursor.line;
  cursor.at += 1; // the opening quote
  let value = '';
  for (;;) {
    const close = text.indexOf('"', cursor.at);
    if (close === -1) throw new CsvSyntaxError(startLine, 'a quoted field is never closed');
    value += text.slice(cursor.at, close);
    cursor.line += countLineBreaks(text.slice(cursor.at, close));
    cursor.at = close + 1;
    if (text[cursor.at] === '"') {
      value += '"';
      cursor.at += 1;
      continue;
    }
    const after = text[cursor.at];
    if (after !== undefined && after !== ',' && after !== '\n' && after !== '\r') {
      throw new CsvSyntaxError(cursor.line, 'text after a closing quote');
    }
    return value;
  }
}

function skipLineBreak(cursor: Cursor): void {
  const { text } = cursor;
  if (text[cursor.at] === '\r') cursor.at += 1;
  if (text[cursor.at] === '\n') cursor.at += 1;
  cursor.line += 1;
}

/** CRLF, LF and a lone CR each count as one line break, as skipLineBreak reads them. */
function countLineBreaks(segment: string): number {
  return segment.match(/\r\n|\r|\n/g)?.length ?? 0;
}
