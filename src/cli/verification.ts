/**
 * What `herald listen` and `herald verify` check, from their flags: a scheme (`--scheme`, with
 * `--signature-header` and friends for hmac/header-secret) or every format of a profile
 * (`--profile`, optionally `--format`). Checking itself is the receiver library's `verifyRaw`.
 */
import { Option, type Command } from 'commander';
import type { HeaderBag } from '../domain/signatures/index.js';
import type { JsonValue } from '../domain/types.js';
import { verifyRaw } from '../receiver/verify.js';
import { describeScheme, needsSecret, normalizeScheme, type ResolvedScheme, type SchemeOption } from '../receiver/schemes.js';
import { CliError, usageError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { collect, nonNegativeNumber } from './parse.js';

export interface VerificationFlags {
  secret?: string[];
  scheme?: string;
  profile?: string;
  format?: string;
  signatureHeader?: string;
  algorithm?: string;
  encoding?: string;
  prefix?: string;
  bodySecret?: string;
  tolerance?: number;
}

export interface Candidate {
  /** For people: `standard-webhooks`, or `vercel/default: hmac sha1 hex x-vercel-signature`. */
  label: string;
  resolved: ResolvedScheme;
}

export type Verdict = { state: 'verified'; scheme: string } | { state: 'failed'; reason: string } | { state: 'skipped'; reason: string };

export function addVerificationOptions(command: Command): Command {
  return command
    .option('-s, --secret <secret>', "the webhook's secret: whsec_…, whpk_… (ed25519) or the plain string (repeatable)", collect)
    .addOption(new Option('--scheme <scheme>', 'signature scheme (default standard-webhooks)').choices(['standard-webhooks', 'svix', 'hmac', 'header-secret', 'none']))
    .option('--profile <name|file>', "accept any format of this profile (standard, voiceflow, convocore, qovery, vercel, or a file)")
    .option('--format <name>', 'with --profile: only this format')
    .option('--signature-header <name>', 'hmac/header-secret: the header (e.g. x-hub-signature-256)')
    .addOption(new Option('--algorithm <alg>', 'hmac: digest algorithm').choices(['sha1', 'sha256', 'sha512']))
    .addOption(new Option('--encoding <enc>', 'hmac: digest encoding').choices(['hex', 'base64']))
    .option('--prefix <text>', 'hmac: text before the digest (e.g. sha256=)')
    .option('--body-secret <path>', 'dot path of a body field that must equal the secret (Convocore: payload.workspaceSecret)')
    .addOption(new Option('--tolerance <seconds>', 'accepted clock difference for timestamped schemes (default 300)').argParser(nonNegativeNumber));
}

const SECRET_PLACEHOLDER = /^\{\{\s*webhook\.secret\s*\}\}$/;

/** The dot path of the envelope field that is exactly the webhook's secret (Convocore's workspaceSecret), or null. */
export function secretPathInEnvelope(envelope: JsonValue, path: string[] = []): string | null {
  if (typeof envelope === 'string') return SECRET_PLACEHOLDER.test(envelope.trim()) && path.length > 0 ? path.join('.') : null;
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) return null;
  for (const [key, value] of Object.entries(envelope)) {
    if (key === '...') continue;
    const found = secretPathInEnvelope(value, [...path, key]);
    if (found !== null) return found;
  }
  return null;
}

/** Every distinct way a profile's formats sign (vercel's two formats sign alike: one candidate). */
export async function candidatesOfProfile(nameOrFile: string, formatName: string | undefined, bodySecret: string | undefined): Promise<Candidate[]> {
  // Loaded only when asked for: the profile loader brings Ajv and YAML.
  const { loadProfile } = await import('../profile/load-profile.js');
  const profile = loadProfile(nameOrFile);
  const names = formatName !== undefined ? [formatName] : [profile.defaultFormat, ...Object.keys(profile.formats).filter((n) => n !== profile.defaultFormat)];
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    const format = profile.formats[name];
    if (!format) throw new CliError(`profile ${profile.name} has no format ${JSON.stringify(name)} (formats: ${Object.keys(profile.formats).join(', ')})`, EXIT.config);
    const resolved: ResolvedScheme = { scheme: format.signature, bodySecret: bodySecret ?? secretPathInEnvelope(format.envelope) };
    const key = JSON.stringify(resolved);
    if (seen.has(key)) continue;
    seen.add(key);
    candidates.push({ label: `${profile.name}/${name}: ${describe(resolved)}`, resolved });
  }
  return candidates;
}

function describe(resolved: ResolvedScheme): string {
  const scheme = describeScheme(resolved.scheme);
  return resolved.bodySecret === null ? scheme : resolved.scheme.scheme === 'none' ? `secret in body field ${resolved.bodySecret}` : `${scheme} + body field ${resolved.bodySecret}`;
}

/** The candidates the flags ask for. */
export async function candidatesFromFlags(flags: VerificationFlags): Promise<Candidate[]> {
  if (flags.profile !== undefined) {
    if (flags.scheme !== undefined) throw usageError('--scheme and --profile together: a profile brings its own schemes');
    return candidatesOfProfile(flags.profile, flags.format, flags.bodySecret);
  }
  if (flags.format !== undefined) throw usageError('--format needs --profile');
  const name = flags.scheme ?? 'standard-webhooks';
  let option: SchemeOption;
  if (name === 'hmac' || name === 'header-secret') {
    if (flags.signatureHeader === undefined) throw usageError(`--scheme ${name} needs --signature-header`);
    option =
      name === 'hmac'
        ? {
            scheme: 'hmac',
            header: flags.signatureHeader,
            ...(flags.algorithm !== undefined ? { algorithm: flags.algorithm as 'sha1' | 'sha256' | 'sha512' } : {}),
            ...(flags.encoding !== undefined ? { encoding: flags.encoding as 'hex' | 'base64' } : {}),
            ...(flags.prefix !== undefined ? { prefix: flags.prefix } : {}),
          }
        : { scheme: 'header-secret', header: flags.signatureHeader };
  } else {
    option = name as SchemeOption;
  }
  let scheme;
  try {
    scheme = normalizeScheme(option);
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const resolved: ResolvedScheme = { scheme, bodySecret: flags.bodySecret ?? null };
  return [{ label: describe(resolved), resolved }];
}

export interface CheckInput {
  headers: HeaderBag;
  body: Buffer | string;
  /** Receiver clock, epoch ms (default now). */
  now?: number;
}

/** Verified when any candidate verifies; skipped when a secret would be needed and none was given. */
export function checkRequest(candidates: readonly Candidate[], secrets: readonly string[], input: CheckInput, toleranceS?: number): Verdict {
  const reasons: string[] = [];
  for (const candidate of candidates) {
    if (secrets.length === 0 && needsSecret(candidate.resolved)) {
      reasons.push(`${candidate.label}: no --secret`);
      continue;
    }
    const { scheme, bodySecret } = candidate.resolved;
    const result = verifyRaw(
      { headers: input.headers, body: input.body },
      {
        scheme,
        ...(bodySecret !== null ? { bodySecret } : {}),
        secrets,
        ...(toleranceS !== undefined ? { toleranceS } : {}),
        ...(input.now !== undefined ? { now: input.now } : {}),
      },
    );
    if (result.ok) return { state: 'verified', scheme: candidate.label };
    reasons.push(candidates.length > 1 ? `${candidate.label}: ${result.reason}` : result.reason);
  }
  if (secrets.length === 0) return { state: 'skipped', reason: 'not verified: no --secret given' };
  return { state: 'failed', reason: reasons.join('; ') };
}
