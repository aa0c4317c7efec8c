/**
 * Validators for event `data` against an event type's JSON Schema. Used when a profile is
 * loaded (examples, test event) and meant for ingest too, so both say the same thing.
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';

import { schemaIssues, type SchemaIssue } from './schema-errors.js';

/** Returns the problems with `data`; empty when it matches. */
export type EventDataValidator = (data: unknown) => SchemaIssue[];

// Operator schemas may carry annotations Ajv does not know (x-…, OpenAPI's `example`):
// not strict, but every error and the failing value, for readable messages.
const OPTIONS: Options = { strict: false, allErrors: true, verbose: true, validateFormats: true };

// Creating an Ajv instance costs ~15 ms (meta-schemas), so one per dialect is shared.
let draft07: Ajv | undefined;
let draft2020: Ajv2020 | undefined;

function ajvFor(schema: Record<string, unknown>): Ajv | Ajv2020 {
  const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
  // Draft-07 when the schema says so; 2020-12 otherwise (Ajv rejects other declared dialects).
  if (/json-schema\.org\/draft-07\/schema/.test(dialect)) return (draft07 ??= ajvFormats.default(new Ajv(OPTIONS)));
  return (draft2020 ??= ajvFormats.default(new Ajv2020(OPTIONS)));
}

/**
 * Compiles an event type's data schema. Throws an Error whose message says why the schema
 * itself is invalid. A null schema accepts anything. Compile once per event type and keep it.
 */
export function compileEventSchema(schema: Record<string, unknown> | null): EventDataValidator {
  if (schema === null) return () => [];
  const ajv = ajvFor(schema);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } finally {
    // The compiled function stands alone. Dropping the schema from the shared instance keeps
    // memory flat as types are replaced and lets two types reuse one `$id`.
    ajv.removeSchema(schema);
  }
  return (data) => (validate(data) ? [] : schemaIssues((validate.errors ?? []) as ErrorObject[]));
}

/** Issues on one line: `/field: must be a string; /other: is required`. */
export function formatIssues(issues: readonly SchemaIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}
