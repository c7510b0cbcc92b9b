import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from './csv-parser.js';

describe('parseCsv', () => {
  const fieldsOf = (text: string) => parseCsv(text).map((r) => r.fields);

  it.each([
    ['one record', 'a,b,c', [['a', 'b', 'c']]],
    [
      'LF line ends',
      'a,b\nc,d\n',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    [
      'CRLF line ends',
      'a,b\r\nc,d\r\n',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    [
      'lone CR line ends',
      'a,b\rc,d',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    ['no final line break', 'a\nb', [['a'], ['b']]],
    [
      'empty fields',
      ',,\na,,b',
      [
        ['', '', ''],
        ['a', '', 'b'],
      ],
    ],
    ['quoted comma', '"Doe, Jane",x', [['Doe, Jane', 'x']]],
    ['doubled quotes', '"say ""hi""",x', [['say "hi"', 'x']]],
    ['quoted empty field next to others', '"",x', [['', 'x']]],
    [
      'line break inside quotes',
      '"Unit 4\nrear",x\ny,z',
      [
        ['Unit 4\nrear', 'x'],
        ['y', 'z'],
      ],
    ],
    ['CRLF inside quotes is kept', '"a\r\nb"', [['a\r\nb']]],
    ['byte order mark', '\uFEFFtenant_id,name', [['tenant_id', 'name']]],
    ['blank lines skipped', 'a\n\n\nb\n\n', [['a'], ['b']]],
    ['spaces are data', ' a , b ', [[' a ', ' b ']]],
    ['trailing comma is an empty field', 'a,', [['a', '']]],
    ['empty input', '', []],
  ])('%s', (_name, text, expected) => {
    expect(fieldsOf(text)).toEqual(expected);
  });

  it('numbers records by the line they start on, counting line breaks inside quotes', () => {
    const records = parseCsv('h1,h2\n"multi\nline\r\nvalue",x\n\nlast,row\r\n');
    expect(records.map((r) => r.line)).toEqual([1, 2, 6]);
  });

  it.each([
    ['unclosed quote', 'a,"never closed\nb', 1, 'never closed'],
    ['quote inside a bare field', 'a,b"c', 1, 'inside an unquoted field'],
    ['text after a closing quote', 'ok\n"a"b,c', 2, 'after a closing quote'],
    ['text after a quote spanning lines', 'x\n"a\nb"c', 3, 'after a closing quote'],
  ])('refuses %s with its line', (_name, text, line, message) => {
    let caught: unknown;
    try {
      parseCsv(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CsvSyntaxError);
    expect((caught as CsvSyntaxError).line).toBe(line);
    expect((caught as CsvSyntaxError).message).toContain(message);
  });
});
