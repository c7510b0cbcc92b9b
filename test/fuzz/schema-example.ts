/**
 * A valid-looking example for a request body, built from the operation's own JSON schema in
 * /openapi.json, so the fuzzer can mutate a body that would pass and reach deep validation.
 */

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  minItems?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
  example?: unknown;
  default?: unknown;
};

export type Components = Record<string, JsonSchema>;

export function resolve(schema: JsonSchema, components: Components): JsonSchema {
  let current = schema;
  for (let i = 0; i < 20 && current.$ref; i++) {
    const name = current.$ref.replace('#/components/schemas/', '');
    current = components[name] ?? {};
  }
  return current;
}

/** Field names whose example is a domain value the schema cannot express. */
function byName(name: string): unknown {
  const n = name.toLowerCase();
  if (n.includes('phone') || n === 'from' || n === 'to') return '+12125550101';
  if (n === 'timezone') return 'America/New_York';
  if (n === 'due_date' || n === 'paid_on' || n.endsWith('_on') || n === 'start_date') return '2026-11-01';
  if (n === 'timestamp' || n.endsWith('_at')) return '2026-12-01T10:00:00Z';
  if (n === 'message_id') return '<fuzz-example@example.com>';
  if (n === 'tenant_id') return 't-fuzz';
  if (n === 'conversation_id') return 'conv_t-fuzz';
  if (n === 'address') return 'someone@example.com';
  return undefined;
}

function firstType(schema: JsonSchema): string | undefined {
  const t = schema.type;
  if (Array.isArray(t)) return t.find((x) => x !== 'null') ?? t[0];
  if (t) return t;
  if (schema.properties) return 'object';
  return undefined;
}

export function exampleFor(schema: JsonSchema, components: Components, name = '', depth = 0): unknown {
  const s = resolve(schema, components);
  if (depth > 8) return null;
  if (s.example !== undefined) return s.example;
  if (s.enum?.length) return s.enum[0];
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives?.length) {
    const nonNull = alternatives.find((a) => resolve(a, components).type !== 'null') ?? alternatives[0];
    return exampleFor(nonNull ?? {}, components, name, depth + 1);
  }
  const named = byName(name);
  const type = firstType(s);
  if (named !== undefined && (type === 'string' || type === undefined)) return named;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(s.properties ?? {})) {
        out[key] = exampleFor(value, components, key, depth + 1);
      }
      return out;
    }
    case 'array': {
      const n = Math.max(1, s.minItems ?? 1);
      return Array.from({ length: n }, () => exampleFor(s.items ?? {}, components, name, depth + 1));
    }
    case 'integer':
      return Math.max(1, typeof s.minimum === 'number' ? s.minimum : 1);
    case 'number':
      return typeof s.minimum === 'number' ? Math.max(s.minimum, 10) : 10;
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'string': {
      if (s.format === 'date-time') return '2026-12-01T10:00:00Z';
      if (s.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
      if (s.format === 'date') return '2026-11-01';
      const base = `fuzz-${name || 'value'}`;
      const min = s.minLength ?? 1;
      const max = s.maxLength ?? 200;
      return base.padEnd(min, 'x').slice(0, Math.max(min, Math.min(max, base.length)));
    }
    default:
      return 'fuzz';
  }
}

/** Every place in an example the mutator may aim at: its JSON path and the schema there. */
export type Target = { path: string[]; schema: JsonSchema; required: boolean };

export function targetsOf(
  schema: JsonSchema,
  components: Components,
  path: string[] = [],
  depth = 0,
): Target[] {
  const s = resolve(schema, components);
  if (depth > 4) return [];
  const out: Target[] = [];
  for (const [key, value] of Object.entries(s.properties ?? {})) {
    const child = resolve(value, components);
    const here = [...path, key];
    out.push({ path: here, schema: child, required: (s.required ?? []).includes(key) });
    out.push(...targetsOf(child, components, here, depth + 1));
  }
  return out;
}
