/**
 * `herald verify --secret … < request.json`: checks a captured request. The JSON is
 * `{"headers": {...}, "body": "<raw body>"}` (or `"bodyBase64"` for bytes that are not UTF-8);
 * an attempt (`{requestHeaders, requestBody, at}`) or a whole delivery from
 * `herald deliveries show --json` is accepted too, checked as of the attempt's time.
 * Exit 0 when it verifies, 8 when it does not.
 */
import { Option, type Command } from 'commander';
import type { HeaderBag } from '../../domain/signatures/index.js';
import { CliError, runCommand, usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { color, printJson, println, wantsJson } from '../output.js';
import { pointInTime, positiveInt, readInput } from '../parse.js';
import { addVerificationOptions, candidatesFromFlags, checkRequest, type VerificationFlags } from '../verification.js';
import { addOutputOptions } from './common.js';

interface VerifyFlags extends VerificationFlags {
  file: string;
  at?: string;
  attempt?: number;
  json?: boolean;
}

export interface CapturedRequest {
  headers: HeaderBag;
  body: Buffer;
  /** When it was sent (attempts), epoch ms. */
  at: number | null;
}

function isHeaderBag(value: unknown): value is HeaderBag {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => v === undefined || typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string')));
}

const invalid = (message: string) => new CliError(`request JSON: ${message}`, EXIT.invalidInput);

/** The request to check out of the JSON document (captured request, attempt, or delivery with attempts). */
export function parseCaptured(document: unknown, attemptNumber?: number): CapturedRequest {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalid('expected an object {headers, body}');
  let object = document as Record<string, unknown>;
  if (Array.isArray(object.attempts)) {
    const attempts = object.attempts as Record<string, unknown>[];
    if (attempts.length === 0) throw invalid('the delivery has no attempts yet');
    const chosen = attemptNumber !== undefined ? attempts.find((a) => a.attemptNumber === attemptNumber) : attempts.at(-1);
    if (!chosen) throw invalid(`the delivery has no attempt ${attemptNumber}`);
    object = chosen;
  }
  const headers = object.headers ?? object.requestHeaders;
  if (!isHeaderBag(headers)) throw invalid('"headers" must be an object of strings (or string arrays)');
  let body: Buffer;
  if (typeof object.bodyBase64 === 'string') body = Buffer.from(object.bodyBase64, 'base64');
  else if (typeof object.body === 'string') body = Buffer.from(object.body, 'utf8');
  else if (typeof object.requestBody === 'string') body = Buffer.from(object.requestBody, 'utf8');
  else throw invalid('"body" must be the raw body as a string (or "bodyBase64")');
  const at = typeof object.at === 'string' ? Date.parse(object.at) : null;
  return { headers, body, at: at !== null && !Number.isNaN(at) ? at : null };
}

function parseAt(value: string): number {
  if (/^\d{9,11}$/.test(value)) return Number(value) * 1000;
  try {
    return Date.parse(pointInTime(value));
  } catch {
    throw usageError(`--at ${JSON.stringify(value)}: expected an ISO time, unix seconds, "now" or a duration ago (5m)`);
  }
}

async function verifyCommand(flags: VerifyFlags): Promise<void> {
  const candidates = await candidatesFromFlags(flags);
  const secrets = flags.secret ?? [];
  if (flags.file === '-' && process.stdin.isTTY === true) process.stderr.write('reading the request JSON from stdin (Ctrl-D to end; or --file)…\n');
  const text = readInput(flags.file, 'request');
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw invalid(`not JSON: ${(error as Error).message}`);
  }
  const captured = parseCaptured(document, flags.attempt);
  const now = flags.at !== undefined ? parseAt(flags.at) : (captured.at ?? undefined);
  const verdict = checkRequest(candidates, secrets, { headers: captured.headers, body: captured.body, ...(now !== undefined ? { now } : {}) }, flags.tolerance);
  if (verdict.state === 'skipped') throw usageError(`--secret is required for ${candidates.map((c) => c.label).join(' | ')}`);
  const json = wantsJson(flags);
  if (verdict.state === 'verified') {
    if (json) printJson({ valid: true, scheme: verdict.scheme });
    else println(`${color.green('✓')} valid: ${verdict.scheme}`);
    return;
  }
  if (json) printJson({ valid: false, reason: verdict.reason });
  else println(`${color.red('✗')} invalid: ${verdict.reason}`);
  process.exitCode = EXIT.invalidSignature;
}

export function registerVerify(program: Command): void {
  addOutputOptions(
    addVerificationOptions(
      program
        .command('verify')
        .description('check the signature of a captured request (JSON on stdin or --file)')
        .option('-f, --file <file>', 'the request JSON (- for stdin)', '-')
        .option('--at <time>', "the receiver's clock for timestamped schemes: ISO time, unix seconds, now, or a duration ago (default: the attempt's time, else now)")
        .addOption(new Option('--attempt <n>', 'with a delivery: which attempt (default the last)').argParser(positiveInt)),
    ),
  )
    .addHelpText(
      'after',
      `
Request JSON (stdin or --file):
  {"headers": {"webhook-id": "dlv_…", "webhook-timestamp": "1718035200",
               "webhook-signature": "v1,…"},
   "body": "{\\"type\\":\\"invoice.paid\\",…}"}
  "body" is the raw body as a string, exactly as received ("bodyBase64" for raw bytes).
  An attempt or a delivery printed by \`herald deliveries show <org> <id> --json\` works too.

Exit 0 when the request verifies, 8 when it does not, 6 when the JSON is unreadable.`,
    )
    .action((flags: VerifyFlags) => runCommand(() => verifyCommand(flags)));
}
