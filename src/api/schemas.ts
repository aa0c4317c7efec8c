/**
 * Shared TypeBox schemas: each gives request validation, TypeScript types and
 * the OpenAPI document at once.
 */
import { Type, type TSchema } from 'typebox';

export const Json = Type.Unknown({ description: 'Any JSON value' });
export const JsonObject = Type.Record(Type.String(), Type.Unknown(), { description: 'A JSON object' });
export const IsoTime = Type.String({ format: 'date-time', description: 'ISO-8601 UTC time' });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. validation_failed' }),
      message: Type.String(),
      details: Type.Array(Type.Unknown()),
    }),
  },
  { description: 'The one error shape of the API' },
);

/** Organization ids are the operator's own; a leading underscore is reserved for Herald. */
export const OrganizationIdParam = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,127}$', description: 'Organization id' });
export const NewOrganizationId = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$',
  description: "The operator's own id for the organization (1–128 of A–Z a–z 0–9 _ . : @ -, not starting with _)",
});
export const EventTypeName = Type.String({
  pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$',
  maxLength: 200,
  description: 'Dot-separated name, e.g. deployment.created',
});

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 250, default: 50, description: 'Page size (1–250)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'nextCursor of the previous page' })),
};

export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({
    data: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as ?cursor= for the next page; null on the last' }),
  });
}

export const OrgParams = Type.Object({ org: OrganizationIdParam });
export const OrgItemParams = Type.Object({ org: OrganizationIdParam, id: Type.String({ maxLength: 100 }) });

/** Standard error answers shown in the OpenAPI document of every route. */
export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  422: ErrorBody,
  429: ErrorBody,
} as const;
