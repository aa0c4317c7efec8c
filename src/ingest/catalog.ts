import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import * as ajvFormats from 'ajv-formats';
import type { AttributeRules } from '../domain/attributes.js';
import type { EventType, JsonValue } from '../domain/types.js';
import { listAllEventTypes } from '../store/repositories/event-types.js';
import type { Db } from '../store/schema.js';

// ajv-formats is CommonJS; under NodeNext its function arrives as `default` of the namespace.
const addFormats = ajvFormats.default as unknown as (ajv: Ajv2020) => Ajv2020;

export interface SchemaProblem {
  path: string;
  message: string;
}

interface Entry {
  type: EventType;
  /** null: no schema; undefined: not compiled yet (compiled on first use, so a big catalog loads fast). */
  validate: ValidateFunction | null | undefined;
}

/**
 * The event catalog held in memory for ingest: each type's JSON Schema is
 * compiled once. Reloaded from the store when the API changes a type and,
 * for processes that share a database, after `maxAgeMs`.
 */
export class Catalog {
  readonly #db: Db;
  readonly #maxAgeMs: number;
  readonly #ajv: Ajv2020;
  /** The profile's declared event attributes, checked at ingest alongside the catalog. */
  readonly attributeRules: AttributeRules;
  #entries = new Map<string, Entry>();
  #loadedAt = -Infinity;
  #loading: Promise<void> | null = null;

  constructor(db: Db, options: { maxAgeMs?: number; attributeRules?: AttributeRules } = {}) {
    this.#db = db;
    this.#maxAgeMs = options.maxAgeMs ?? 5_000;
    this.attributeRules = options.attributeRules ?? {};
    this.#ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(this.#ajv);
  }

  /** Checks that a schema compiles, before the API stores it. */
  schemaError(schema: JsonValue): string | null {
    try {
      this.#ajv.compile(schema as object);
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** Checks data against a schema that is not (yet) in the catalog. */
  check(schema: JsonValue, data: JsonValue): SchemaProblem[] {
    const validate = this.#ajv.compile(schema as object);
    return validate(data) ? [] : toProblems(validate.errors ?? []);
  }

  async reload(): Promise<void> {
    const types = await listAllEventTypes(this.#db);
    const entries = new Map<string, Entry>();
    for (const type of types) {
      const previous = this.#entries.get(type.name);
      const sameSchema = previous && JSON.stringify(previous.type.schema) === JSON.stringify(type.schema);
      entries.set(type.name, {
        type,
        validate: sameSchema ? previous.validate : type.schema === null ? null : undefined,
      });
    }
    this.#entries = entries;
    this.#loadedAt = Date.now();
  }

  async #fresh(): Promise<void> {
    if (Date.now() - this.#loadedAt < this.#maxAgeMs) return;
    this.#loading ??= this.reload().finally(() => {
      this.#loading = null;
    });
    await this.#loading;
  }

  async get(name: string): Promise<EventType | null> {
    await this.#fresh();
    return this.#entries.get(name)?.type ?? null;
  }

  /** Every type, as last loaded (for matching at ingest). */
  async all(): Promise<EventType[]> {
    await this.#fresh();
    return [...this.#entries.values()].map((e) => e.type);
  }

  /** The data's problems against its type's schema; empty when it conforms. */
  async validate(name: string, data: JsonValue): Promise<SchemaProblem[]> {
    await this.#fresh();
    const entry = this.#entries.get(name);
    if (entry && entry.validate === undefined) entry.validate = entry.type.schema === null ? null : this.#ajv.compile(entry.type.schema);
    const validate = entry?.validate;
    if (!validate || validate(data)) return [];
    return toProblems(validate.errors ?? []);
  }
}

function toProblems(errors: ErrorObject[]): SchemaProblem[] {
  return errors.map((e) => ({ path: e.instancePath === '' ? '/' : e.instancePath, message: e.message ?? 'is invalid' }));
}
