import fc from 'fast-check';
import { badValue } from './bad-requests.js';

/**
 * Bad bodies for the dashboard's form routes (application/x-www-form-urlencoded, the way the
 * pages post). A body carries CSRF_PLACEHOLDER where its `_csrf` field goes; the harness puts
 * the session's token (or a wrong one, or none) there when it sends it, since the token changes
 * whenever the harness has to make a new session.
 */
export const CSRF_PLACEHOLDER = '__FUZZ_CSRF__';

export type DashboardBody = { kind: string; contentType: string | undefined; body: string | undefined };

const FORM = 'application/x-www-form-urlencoded';

/** Values a dashboard field may meet: the API fuzz's nasty values, plus the forms' own vocabulary. */
const formValue: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: badValue.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\r\n',
      '\t\u0000',
      'approve',
      'modify',
      'reject',
      'APPROVE',
      'send',
      'edit',
      'ignore',
      'owner:default',
      'owner:',
      'tenant:t-fuzz',
      'tenant:nobody',
      'tenant:__proto__',
      '//evil.example',
      'https://evil.example/dashboard',
      '/dashboard\\@evil.example',
      '/dashboard/../../admin',
      '/dashboard/login',
      '/dashboard?x=\r\nSet-Cookie: a=1',
      '/dashboardx',
      '0',
      '-1',
      '1e309',
      '999999999999',
      '1.5',
      '0x1F',
      '+12125550101',
      '+12025550100',
      'America/New_York',
      'Etc/Nowhere',
      'a@b',
      'Ana Silva <ana@example.net>',
      '<>@',
      '"a@b" <c@d>, e@f',
      '=?utf-8?B?AAAA?= <x@y>',
      'status=any&limit=99999',
      'status=nope&severity=%00',
      'status=open&status=resolved',
      'y'.repeat(2001),
      'y'.repeat(10_001),
      '__proto__',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }) },
);

/** Bodies that are not the urlencoded form: as multipart, JSON, garbage. */
function multipart(boundary: string, fields: Record<string, string>, close = true): string {
  const parts = Object.entries(fields).map(
    ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
  );
  return `${parts.join('')}${close ? `--${boundary}--\r\n` : ''}`;
}

/**
 * A generator of bad bodies for one form route, from a valid example of its form (field → value,
 * `_csrf` included as CSRF_PLACEHOLDER). A route without an example gets `{ _csrf }` only.
 */
export function badDashboardForms(example: Record<string, string>): fc.Arbitrary<DashboardBody> {
  const keys = Object.keys(example);
  const fields = keys.filter((k) => k !== '_csrf');
  const anyField = fields.length ? fields : ['x'];
  const valid = () => new URLSearchParams(example).toString();

  const mutated = fc
    .tuple(
      fc.uniqueArray(fc.constantFrom(...keys), { maxLength: Math.min(keys.length, 3) }),
      fc.dictionary(
        fc.constantFrom(...anyField, 'extra', '__proto__', 'constructor', 'toString', 'a[]', '_csrf[]'),
        formValue,
        { maxKeys: 3 },
      ),
      fc.option(fc.tuple(fc.constantFrom(...keys), formValue, fc.boolean()), { freq: 3 }),
    )
    .map(([dropped, overrides, repeat]): DashboardBody => {
      const params = new URLSearchParams();
      if (repeat?.[2]) params.append(repeat[0], repeat[1]);
      for (const [k, v] of Object.entries({ ...example, ...overrides })) {
        if (!dropped.includes(k)) params.append(k, v);
      }
      if (repeat && !repeat[2]) params.append(repeat[0], repeat[1]);
      const kinds = [
        dropped.length ? 'drop' : '',
        Object.keys(overrides).length ? 'set' : '',
        repeat ? 'repeat' : '',
      ].filter(Boolean);
      return { kind: `form:${kinds.join('+') || 'valid'}`, contentType: FORM, body: params.toString() };
    });

  const rawTemplates = (key: string): string[] => [
    '%',
    '%zz',
    '%ff%fe',
    `${key}=%E0%A4%A`,
    `${key}=%C0%AF%C0%80`,
    `${key}=%ED%A0%80`,
    `${key}=%F4%90%80%80`,
    `${key}=%00`,
    `${key}=a%00b`,
    `%00=${key}`,
    '&&&==&',
    '=x',
    '=',
    key,
    `${key}=${'%41'.repeat(40_000)}`,
    `${key}=a+b%2Bc%3D%26%`,
    `${key}[]=1&${key}[]=2`,
    `${key}[a][b]=1`,
    `${key}=1;${key}=2`,
    `${'a=1&'.repeat(5_000)}${key}=x`,
    `${key}=\u00ff\u00fe`,
    `${key}=\ud800`,
  ];
  const raw = fc
    .tuple(fc.constantFrom(...anyField), fc.nat(), fc.nat({ max: 3 }))
    .map(([key, n, withToken]): DashboardBody => {
      const templates = rawTemplates(key);
      const text = templates[n % templates.length] ?? '%';
      // Most raw bodies carry the token first, so they get past the shell to the form parsing.
      const body = withToken > 0 ? `_csrf=${CSRF_PLACEHOLDER}&${text}` : text;
      return { kind: 'raw', contentType: FORM, body };
    });

  const wrongType = fc
    .tuple(
      fc.constantFrom<string | undefined>(
        undefined,
        '',
        'text/plain',
        'application/json',
        'multipart/form-data',
        'multipart/form-data; boundary=x',
        'multipart/form-data; boundary=',
        'multipart/form-data; boundary="unclosed',
        `${FORM}; charset=utf-16`,
        `${FORM}; charset=latin1`,
        `${FORM}; charset=nope`,
        'APPLICATION/X-WWW-FORM-URLENCODED',
        `${FORM}x`,
        `${FORM}, text/plain`,
        '*/*',
        'garbage\u00ff',
      ),
      fc.nat({ max: 6 }),
    )
    .map(([contentType, shape]): DashboardBody => {
      const bodies = [
        valid(),
        JSON.stringify(example),
        multipart('x', example),
        multipart('x', example, false),
        multipart('y', example),
        `--x\r\nContent-Disposition: form-data; name="${anyField[0]}"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n${'f'.repeat(1000)}\r\n--x\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${CSRF_PLACEHOLDER}\r\n--x--\r\n`,
        '\u0000\u0001\u00ff garbage',
      ];
      return { kind: `content-type:${contentType ?? '(none)'}`, contentType, body: bodies[shape] };
    });

  const whole = fc.constantFrom<DashboardBody>(
    { kind: 'body:empty', contentType: FORM, body: '' },
    { kind: 'body:none', contentType: FORM, body: undefined },
    { kind: 'body:none', contentType: undefined, body: undefined },
    { kind: 'body:only-csrf', contentType: FORM, body: `_csrf=${CSRF_PLACEHOLDER}` },
  );

  // Rare: over the service's 256 kB body limit (answered 413 before the dashboard), or just under.
  const huge = fc
    .tuple(fc.constantFrom(...anyField), fc.integer({ min: 150_000, max: 400_000 }))
    .map(([key, n]): DashboardBody => ({
      kind: n > 262_144 ? 'huge:over-limit' : 'huge:under-limit',
      contentType: FORM,
      body: `_csrf=${CSRF_PLACEHOLDER}&${key}=${'z'.repeat(n)}`,
    }));

  return fc.oneof(
    { weight: 30, arbitrary: mutated },
    { weight: 10, arbitrary: raw },
    { weight: 10, arbitrary: wrongType },
    { weight: 4, arbitrary: whole },
    { weight: 1, arbitrary: huge },
  );
}
