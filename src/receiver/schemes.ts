/**
 * What a receiver checks: a signature scheme (by name or in full) and, for formats that carry the
 * secret in the body (Convocore's `payload.workspaceSecret`), where in the JSON body to find it.
 * Presets name the wire formats of Herald's built-in profiles so a receiver need not know them.
 */
import type { HmacAlgorithm, SignatureScheme } from '../domain/types.js';

export type { SignatureScheme } from '../domain/types.js';

/** Names of the schemes that need no further settings. */
export type SimpleSchemeName = 'standard-webhooks' | 'svix' | 'none';

/** A scheme by name, or in full; `hmac` fields other than `header` have defaults. */
export type SchemeOption =
  | SimpleSchemeName
  | { scheme: SimpleSchemeName }
  | { scheme: 'hmac'; header: string; algorithm?: HmacAlgorithm; encoding?: 'hex' | 'base64'; prefix?: string }
  | { scheme: 'header-secret'; header: string };

/** Herald's built-in profiles, by name. */
export type ProfilePreset = 'standard' | 'voiceflow' | 'convocore' | 'qovery' | 'vercel';

export interface ResolvedScheme {
  scheme: SignatureScheme;
  /** Dot path in the JSON body whose value must equal a secret; null when nothing is in the body. */
  bodySecret: string | null;
}

/**
 * The signature scheme of each built-in profile's default format (a unit test checks these
 * against the profile files, so they cannot drift apart).
 */
export const PROFILE_PRESETS: Readonly<Record<ProfilePreset, ResolvedScheme>> = Object.freeze({
  standard: { scheme: { scheme: 'standard-webhooks' }, bodySecret: null },
  voiceflow: { scheme: { scheme: 'svix' }, bodySecret: null },
  // Convocore signs nothing: the webhook's secret is the body's payload.workspaceSecret.
  convocore: { scheme: { scheme: 'none' }, bodySecret: 'payload.workspaceSecret' },
  qovery: { scheme: { scheme: 'header-secret', header: 'Qovery-Secret' }, bodySecret: null },
  vercel: { scheme: { scheme: 'hmac', algorithm: 'sha1', encoding: 'hex', header: 'x-vercel-signature', prefix: '' }, bodySecret: null },
});

const HMAC_ALGORITHMS: readonly string[] = ['sha1', 'sha256', 'sha512'];

/** Turns the `scheme` option into a full SignatureScheme; throws a TypeError on a malformed one. */
export function normalizeScheme(option: SchemeOption): SignatureScheme {
  const spec = typeof option === 'string' ? { scheme: option } : option;
  switch (spec.scheme) {
    case 'standard-webhooks':
    case 'svix':
    case 'none':
      return { scheme: spec.scheme };
    case 'hmac': {
      if (typeof spec.header !== 'string' || spec.header === '') throw new TypeError('hmac scheme: header is required');
      const algorithm = spec.algorithm ?? 'sha256';
      if (!HMAC_ALGORITHMS.includes(algorithm)) throw new TypeError(`hmac scheme: algorithm must be sha1, sha256 or sha512, got ${String(algorithm)}`);
      const encoding = spec.encoding ?? 'hex';
      if (encoding !== 'hex' && encoding !== 'base64') throw new TypeError(`hmac scheme: encoding must be hex or base64, got ${String(encoding)}`);
      return { scheme: 'hmac', algorithm, encoding, header: spec.header, prefix: spec.prefix ?? '' };
    }
    case 'header-secret':
      if (typeof spec.header !== 'string' || spec.header === '') throw new TypeError('header-secret scheme: header is required');
      return { scheme: 'header-secret', header: spec.header };
    default:
      throw new TypeError(
        `unknown signature scheme ${JSON.stringify((spec as { scheme?: unknown }).scheme)}: expected standard-webhooks, svix, hmac, header-secret or none`,
      );
  }
}

/** The scheme's name as shown to people, e.g. `hmac sha1 hex x-vercel-signature`. */
export function describeScheme(scheme: SignatureScheme): string {
  switch (scheme.scheme) {
    case 'hmac':
      return `hmac ${scheme.algorithm} ${scheme.encoding} ${scheme.header}${scheme.prefix !== '' ? ` (${scheme.prefix}…)` : ''}`;
    case 'header-secret':
      return `header-secret ${scheme.header}`;
    default:
      return scheme.scheme;
  }
}

/** Whether a request with this scheme proves anything only with a secret. */
export function needsSecret(resolved: ResolvedScheme): boolean {
  return resolved.scheme.scheme !== 'none' || resolved.bodySecret !== null;
}
