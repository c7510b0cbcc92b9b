import fc from 'fast-check';
import {
  exampleFor,
  resolve,
  targetsOf,
  type Components,
  type JsonSchema,
  type Target,
} from './schema-example.js';

/** One generated request body: its content type (undefined: none sent), its bytes, and what it is. */
export type FuzzBody = { kind: string; contentType: string | undefined; body: string | undefined };

const JSON_TYPE = 'application/json';

/** Strings that break parsers, coercions and domain checks. */
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-1e309',
  '-0',
  '0x10',
  '9007199254740993',
  '1.005',
  '+1',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '2026-13-45',
  '2026-02-30',
  '0000-00-00T00:00:00Z',
  '275760-09-13T00:00:00.001Z',
  'not-a-date',
  '+1 (000) 000-0000',
  '+999999999999999999999',
  '12345',
  '+0',
  '+12125550101\u0000',
  'Etc/Nowhere',
  '../../etc/passwd',
  '%00',
  '\u202e\ud83d\ude00\u0301',
  '\ud800',
  '\uffff\ufeff',
  "'; drop table jobs; --",
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  '=cmd|"/c calc"!A1',
  '\r\nSet-Cookie: x=1',
  '__proto__',
  'constructor',
] as const;

const BOUNDARY_NUMBERS = [
  -1,
  0,
  -0,
  0.001,
  0.005,
  1.005,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53 + 1,
  -(2 ** 63),
  1e21,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER,
] as const;

/** A value of some wrong shape for a field. */
export const badValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(...BOUNDARY_NUMBERS) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { $gt: '' }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 300, maxLength: 3000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 10_001, max: 300_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

type Example = Record<string, unknown>;

function getParent(root: Example, path: string[]): Record<string, unknown> | undefined {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

/** A value just outside the bound the schema declares for a target, where it declares one. */
function outOfBound(target: Target, pick: number): unknown {
  const s = target.schema;
  const options: unknown[] = [];
  if (typeof s.maxLength === 'number') options.push('y'.repeat(s.maxLength + 1));
  if (typeof s.minLength === 'number' && s.minLength > 0) options.push('y'.repeat(s.minLength - 1));
  if (typeof s.minimum === 'number') options.push(s.minimum - 1, s.minimum - 0.01);
  if (typeof s.exclusiveMinimum === 'number') options.push(s.exclusiveMinimum, s.exclusiveMinimum - 1);
  if (typeof s.maximum === 'number') options.push(s.maximum + 1);
  if (typeof s.maxItems === 'number') options.push(Array.from({ length: s.maxItems + 1 }, () => 'x'));
  if (typeof s.minItems === 'number' && s.minItems > 0) options.push([]);
  if (s.enum) options.push('not-one-of-the-enum', String(s.enum[0]).toUpperCase());
  if (s.pattern) options.push('has spaces <and> brackets');
  if (s.format === 'date-time') options.push('2026-12-01 10:00', '2026-12-01T25:61:00Z');
  if (s.format === 'uuid') options.push('00000000-0000-0000-0000-00000000000g');
  if (options.length === 0) return 'y'.repeat(10_001);
  return options[pick % options.length];
}

type Mutation =
  | { op: 'drop'; target: number }
  | { op: 'wrong-type'; target: number; value: unknown }
  | { op: 'out-of-bound'; target: number; pick: number }
  | { op: 'extra-key'; key: string; value: unknown };

function applyMutation(example: Example, targets: Target[], m: Mutation): string {
  if (m.op === 'extra-key') {
    example[m.key] = m.value;
    return `extra-key`;
  }
  const target = targets[m.target % targets.length];
  if (!target) return 'noop';
  const parent = getParent(example, target.path);
  const key = target.path[target.path.length - 1];
  if (!parent || key === undefined) return 'noop';
  if (m.op === 'drop') {
    delete parent[key];
    return target.required ? 'drop-required' : 'drop-optional';
  }
  parent[key] = m.op === 'wrong-type' ? m.value : outOfBound(target, m.pick);
  return m.op;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), target: fc.nat() }),
  fc.record({ op: fc.constant('wrong-type' as const), target: fc.nat(), value: badValue }),
  fc.record({ op: fc.constant('out-of-bound' as const), target: fc.nat(), pick: fc.nat() }),
  fc.record({
    op: fc.constant('extra-key' as const),
    key: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('__proto__', 'constructor', 'prototype', '')),
    value: badValue,
  }),
);

/** JSON text with structural abuse no JSON.stringify of a plain object produces. */
function rawAbuse(validJson: string, kind: number, n: number): { kind: string; text: string } {
  const inner = validJson.startsWith('{') && validJson.length > 2 ? validJson.slice(1) : '}';
  switch (kind % 12) {
    case 0:
      return {
        kind: 'proto-pollution',
        text: `{"__proto__":{"role":"admin","polluted":true},"constructor":{"prototype":{"polluted":true}},${inner}`,
      };
    case 1: {
      const depth = 50 + (n % 20_000);
      return { kind: 'deep-nesting', text: `{"deep":${'['.repeat(depth)}${']'.repeat(depth)},${inner}` };
    }
    case 2: {
      const depth = 50 + (n % 5_000);
      return { kind: 'deep-objects', text: `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` };
    }
    case 3:
      return { kind: 'truncated-json', text: validJson.slice(0, n % Math.max(1, validJson.length)) };
    case 4:
      return { kind: 'trailing-garbage', text: `${validJson},` };
    case 5:
      return { kind: 'single-quotes', text: validJson.replaceAll('"', "'") };
    case 6:
      return { kind: 'bom', text: `\ufeff${validJson}` };
    case 7:
      return { kind: 'nul-bytes', text: validJson.replace('{', '{\u0000') };
    case 8:
      return {
        kind: 'duplicate-keys',
        text: validJson.startsWith('{"')
          ? `{"${inner.slice(1, inner.indexOf(':'))}:null,${inner}`
          : validJson,
      };
    case 9:
      return { kind: 'nan-literal', text: validJson.replace(/:(\d+(\.\d+)?)/, ':NaN') };
    case 10:
      return { kind: 'lone-surrogate-escape', text: validJson.replace(/:"/, ':"\\ud800\\u0000') };
    default:
      return { kind: 'number-overflow', text: validJson.replace(/:(\d+(\.\d+)?)/, ':1e999999') };
  }
}

const wrongContentType = fc.constantFrom<string | undefined>(
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json; charset=nope',
  'application/json;;;',
  'APPLICATION/JSON',
  'application/xml',
  'application/jsonx',
  'text/csv',
  'message/rfc822',
  '*/*',
  '',
  'application/json, text/plain',
  'garbage\u00ff',
);

/** Whole-body shapes that are not the object the endpoint wants. */
const wholeBody: fc.Arbitrary<{ kind: string; text: string | undefined }> = fc.oneof(
  { weight: 20, arbitrary: fc.constant({ kind: 'empty', text: '' }) },
  { weight: 20, arbitrary: fc.constant({ kind: 'no-body', text: undefined }) },
  {
    weight: 20,
    arbitrary: fc
      .constantFrom(
        'null',
        '0',
        '-1',
        'true',
        '"a string"',
        '[]',
        '[{}]',
        '{}',
        '"\\u0000"',
        'NaN',
        'Infinity',
      )
      .map((text) => ({ kind: 'scalar-or-array', text })),
  },
  {
    weight: 20,
    arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: 'random-json', text: JSON.stringify(v) })),
  },
  {
    weight: 20,
    arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ kind: 'random-text', text })),
  },
  // Rare: the service answers 413 from Content-Length and drops the connection while the client
  // still writes, which costs a reconnect (~0.4 s) each time.
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 300_000, max: 400_000 })
      .map((n) => ({ kind: 'over-body-limit', text: `{"x":"${'z'.repeat(n)}"}` })),
  },
);

export type BodyShape = {
  /** The content types the operation declares; the first is used for valid-looking bodies. */
  contentTypes: string[];
  schema: JsonSchema | undefined;
  components: Components;
};

/** A generator of bad bodies for one operation, derived from its request schema where it has one. */
export function badBodies(shape: BodyShape): fc.Arbitrary<FuzzBody> {
  const declared = shape.contentTypes[0];
  if (declared === 'application/x-www-form-urlencoded') return badForms(shape);
  if (declared === 'text/csv') return badCsv();
  const schema = shape.schema ? resolve(shape.schema, shape.components) : undefined;
  const example = schema ? exampleFor(schema, shape.components) : {};
  const validJson = JSON.stringify(example);
  const targets = schema ? targetsOf(schema, shape.components) : [];
  const contentType = declared ?? JSON_TYPE;

  const mutated = fc.array(mutationArb, { minLength: 1, maxLength: 3 }).map((mutations): FuzzBody => {
    const copy = structuredClone(example) as Example;
    const kinds =
      copy && typeof copy === 'object' && !Array.isArray(copy)
        ? mutations.map((m) => applyMutation(copy, targets.length ? targets : [], m))
        : ['noop'];
    return { kind: `mutate:${[...new Set(kinds)].join('+')}`, contentType, body: JSON.stringify(copy) };
  });
  const raw = fc.tuple(fc.nat(), fc.nat()).map(([k, n]): FuzzBody => {
    const abuse = rawAbuse(validJson, k, n);
    return { kind: `raw:${abuse.kind}`, contentType, body: abuse.text };
  });
  const whole = wholeBody.map((w): FuzzBody => ({ kind: `body:${w.kind}`, contentType, body: w.text }));
  const wrongType = fc
    .tuple(
      wrongContentType,
      fc.oneof(
        fc.constant(validJson),
        wholeBody.map((w) => w.text ?? ''),
      ),
    )
    .map(([ct, body]): FuzzBody => ({ kind: `content-type:${ct ?? '(none)'}`, contentType: ct, body }));
  const arms: fc.WeightedArbitrary<FuzzBody>[] = [
    { weight: 6, arbitrary: mutated },
    { weight: 2, arbitrary: raw },
    { weight: 2, arbitrary: whole },
    { weight: 1, arbitrary: wrongType },
  ];
  if (shape.contentTypes.includes('message/rfc822')) arms.push({ weight: 2, arbitrary: badRfc822() });
  return fc.oneof(...arms);
}

function badRfc822(): fc.Arbitrary<FuzzBody> {
  const header = fc.constantFrom(
    'From: someone@example.com',
    'From: ',
    'From: <>',
    'From: "\u0000" <a@b>',
    'Message-ID: <x@y>',
    'Message-ID: ',
    'Subject: =?utf-8?B?!!!notbase64?=',
    'Content-Type: multipart/mixed; boundary=',
    'Content-Type: multipart/mixed; boundary="b"',
    'Content-Transfer-Encoding: base64',
    'Content-Transfer-Encoding: quoted-printable',
    'Date: not a date',
    `X-Long: ${'h'.repeat(20_000)}`,
    'To: a@b, , ,',
  );
  return fc
    .tuple(fc.array(header, { maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.boolean())
    .map(([headers, body, crlf]) => {
      const nl = crlf ? '\r\n' : '\n';
      return { kind: 'rfc822', contentType: 'message/rfc822', body: `${headers.join(nl)}${nl}${nl}${body}` };
    });
}

function badCsv(): fc.Arbitrary<FuzzBody> {
  const header = 'tenant_id,name,phone,timezone,amount_owed,due_date';
  const cell = fc.oneof(
    fc.constantFrom(
      't1',
      'Maria',
      '+12125550101',
      'America/New_York',
      '600',
      '2026-11-01',
      '',
      '"',
      '""',
      '"a,b"',
    ),
    badValue.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
  );
  const row = fc.array(cell, { minLength: 0, maxLength: 9 }).map((cells) => cells.join(','));
  return fc.oneof(
    fc
      .tuple(fc.boolean(), fc.array(row, { maxLength: 6 }), fc.constantFrom('\n', '\r\n', '\r'))
      .map(([withHeader, rows, nl]) => ({
        kind: 'csv:rows',
        contentType: 'text/csv',
        body: [...(withHeader ? [header] : []), ...rows].join(nl),
      })),
    fc
      .string({ unit: 'binary', maxLength: 300 })
      .map((body) => ({ kind: 'csv:random', contentType: 'text/csv', body })),
    fc
      .constantFrom('', '\ufeff', `${header}\n"unclosed`, `${header},${header}`, `${'a,'.repeat(5000)}`)
      .map((body) => ({
        kind: 'csv:edge',
        contentType: 'text/csv',
        body,
      })),
    fc.tuple(wrongContentType, fc.string({ maxLength: 50 })).map(([ct, body]) => ({
      kind: `content-type:${ct ?? '(none)'}`,
      contentType: ct,
      body,
    })),
  );
}

function badForms(shape: BodyShape): fc.Arbitrary<FuzzBody> {
  const schema = shape.schema ? resolve(shape.schema, shape.components) : {};
  const example = exampleFor(schema, shape.components) as Record<string, string>;
  const keys = Object.keys(schema.properties ?? {});
  const form = 'application/x-www-form-urlencoded';
  const field = fc.oneof(
    badValue.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
    fc.constantFrom('SM123', 'delivered', 'failed', 'undelivered', '21610', '+12125550101'),
  );
  const mutated = fc
    .tuple(
      fc.uniqueArray(fc.constantFrom(...keys), { maxLength: keys.length }),
      fc.dictionary(fc.constantFrom(...keys, 'Extra', '__proto__'), field, { maxKeys: 4 }),
      fc.boolean(),
    )
    .map(([dropped, overrides, repeat]) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...example, ...overrides })) {
        if (!dropped.includes(k)) params.append(k, String(v));
      }
      if (repeat && keys[0]) params.append(keys[0], 'again');
      return { kind: 'form:mutate', contentType: form, body: params.toString() };
    });
  const raw = fc
    .constantFrom(
      '%',
      '%zz',
      '%ff%fe',
      'a=%E0%A4%A',
      '&&&==&',
      'MessageSid',
      '=x',
      `Body=${'%41'.repeat(40_000)}`,
    )
    .map((body) => ({ kind: 'form:raw', contentType: form, body }));
  const wrongType = fc
    .tuple(wrongContentType, fc.constant(new URLSearchParams(example).toString()))
    .map(([ct, body]) => ({ kind: `content-type:${ct ?? '(none)'}`, contentType: ct, body }));
  return fc.oneof(
    { weight: 5, arbitrary: mutated },
    { weight: 2, arbitrary: raw },
    { weight: 1, arbitrary: wrongType },
  );
}
