/**
 * `herald listen`: a local receiver for development, like Stripe CLI's `listen`. Every request
 * is verified (the receiver library, any scheme of the chosen profile), summarised in one line
 * (time, type, delivery id, verified or not) and answered: 401 when a secret was given and the
 * signature does not match, else 200, or, with `--forward`, whatever the app answers.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Option, type Command } from 'commander';
import { Agent, request } from 'undici';
import type { HeaderBag } from '../../domain/signatures/index.js';
import { seg, withClient } from '../client.js';
import { CliError, runCommand, usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { color, printJsonLine, println, wantsJson } from '../output.js';
import { positiveInt } from '../parse.js';
import { addVerificationOptions, candidatesFromFlags, checkRequest, type Candidate, type Verdict, type VerificationFlags } from '../verification.js';
import { addClientOptions, type ClientFlags } from './common.js';

interface ListenFlags extends VerificationFlags, ClientFlags {
  port: number;
  host: string;
  forward?: string;
  verbose?: boolean;
  webhook?: string;
  maxBody: number;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

function forwardableHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name.toLowerCase())) continue;
    out[name] = value;
  }
  return out;
}

function firstHeader(headers: HeaderBag, name: string): string | null {
  const value = headers[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? (value[0] ?? null) : null;
}

/** The event type and delivery id, wherever this format puts them. */
export function summarize(headers: HeaderBag, body: string): { type: string | null; deliveryId: string | null; payload: unknown } {
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    payload = undefined;
  }
  const object = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {};
  const typeValue = object.type ?? object.event_type ?? object.eventType;
  const headerId = firstHeader(headers, 'webhook-id') ?? firstHeader(headers, 'svix-id');
  const bodyId = typeof object.id === 'string' ? object.id : null;
  return { type: typeof typeValue === 'string' ? typeValue : null, deliveryId: headerId ?? bodyId, payload };
}

interface ForwardResult {
  url: string;
  status: number | null;
  durationMs: number;
  error?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer;
}

async function forward(agent: Agent, target: string, req: IncomingMessage, body: Buffer): Promise<ForwardResult> {
  const started = Date.now();
  const url = new URL(req.url ?? '/', 'http://x');
  // The app's URL is used as given; the incoming query string is added to it.
  const destination = new URL(target);
  for (const [key, value] of url.searchParams) destination.searchParams.append(key, value);
  try {
    const response = await request(destination, {
      method: (req.method ?? 'POST') as 'POST',
      headers: forwardableHeaders(req.headers),
      body,
      dispatcher: agent,
    });
    const answer = Buffer.from(await response.body.arrayBuffer());
    return {
      url: destination.toString(),
      status: response.statusCode,
      durationMs: Date.now() - started,
      headers: forwardableHeaders(response.headers),
      body: answer,
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
    return { url: destination.toString(), status: null, durationMs: Date.now() - started, error: cause ?? (error as Error).message };
  }
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function verdictMark(verdict: Verdict): string {
  if (verdict.state === 'verified') return color.green('✓ verified');
  if (verdict.state === 'failed') return color.red(`✗ ${verdict.reason}`);
  return color.yellow('· unverified (no --secret)');
}

function localTime(date: Date): string {
  return date.toTimeString().slice(0, 8);
}

async function resolveSecrets(flags: ListenFlags): Promise<string[]> {
  const secrets = [...(flags.secret ?? [])];
  if (flags.webhook !== undefined) {
    const slash = flags.webhook.indexOf('/');
    if (slash <= 0 || slash === flags.webhook.length - 1) throw usageError('--webhook must be <org>/<webhookId>');
    const org = flags.webhook.slice(0, slash);
    const id = flags.webhook.slice(slash + 1);
    const answer = await withClient(flags, (client) => client.call<{ secret: string; publicKey?: string }>('GET', `/organizations/${seg(org)}/webhooks/${seg(id)}/secret`));
    secrets.push(answer.publicKey ?? answer.secret);
  }
  return secrets;
}

async function listen(flags: ListenFlags): Promise<void> {
  const candidates: Candidate[] = await candidatesFromFlags(flags);
  const secrets = await resolveSecrets(flags);
  if (flags.forward !== undefined) {
    try {
      const target = new URL(flags.forward);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('not http');
    } catch {
      throw usageError(`--forward ${JSON.stringify(flags.forward)} is not an http(s) URL`);
    }
  }
  const json = wantsJson(flags);
  const agent = new Agent({ headersTimeout: 60_000, bodyTimeout: 60_000, keepAliveTimeout: 4_000 });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const receivedAt = new Date();
    const raw = await readBody(req, flags.maxBody);
    if (raw === null) {
      res.writeHead(413, { 'content-type': 'text/plain' }).end(`body larger than ${flags.maxBody} bytes\n`);
      if (json) printJsonLine({ time: receivedAt.toISOString(), method: req.method, path: req.url, status: 413, error: 'body too large' });
      else println(`${localTime(receivedAt)}  ${req.method} ${req.url}  ${color.red(`✗ body larger than ${flags.maxBody} bytes → 413`)}`);
      return;
    }
    const headers = req.headers as HeaderBag;
    const verdict = checkRequest(candidates, secrets, { headers, body: raw }, flags.tolerance);
    const text = raw.toString('utf8');
    const info = summarize(headers, text);

    let status: number;
    let forwarded: ForwardResult | null = null;
    if (verdict.state === 'failed') {
      status = 401;
      res.writeHead(status, { 'content-type': 'text/plain' }).end('signature verification failed\n');
    } else if (flags.forward !== undefined) {
      forwarded = await forward(agent, flags.forward, req, raw);
      if (forwarded.status === null) {
        status = 502;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`herald listen: cannot reach ${forwarded.url}: ${forwarded.error}\n`);
      } else {
        status = forwarded.status;
        res.writeHead(status, forwarded.headers).end(forwarded.body);
      }
    } else {
      status = 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok\n');
    }

    if (json) {
      printJsonLine({
        time: receivedAt.toISOString(),
        method: req.method,
        path: req.url,
        type: info.type,
        deliveryId: info.deliveryId,
        verified: verdict.state === 'verified' ? true : verdict.state === 'failed' ? false : null,
        ...(verdict.state === 'verified' ? { scheme: verdict.scheme } : { reason: verdict.reason }),
        status,
        ...(forwarded
          ? { forward: { url: forwarded.url, status: forwarded.status, durationMs: forwarded.durationMs, ...(forwarded.error !== undefined ? { error: forwarded.error } : {}) } }
          : {}),
        ...(flags.verbose ? { headers, body: info.payload !== undefined ? info.payload : text } : {}),
      });
      return;
    }
    let outcome: string;
    if (verdict.state === 'failed') outcome = `→ answered ${color.red('401')}`;
    else if (forwarded === null) outcome = `→ ${status}`;
    else if (forwarded.status === null) outcome = `→ ${color.red(`${forwarded.url} unreachable (${forwarded.error})`)}, answered 502`;
    else {
      const code = String(forwarded.status);
      outcome = `→ ${forwarded.url} ${forwarded.status >= 200 && forwarded.status < 300 ? color.green(code) : color.red(code)} (${forwarded.durationMs} ms)`;
    }
    println(`${color.dim(localTime(receivedAt))}  ${info.type ?? color.dim(`${req.method} ${req.url}`)}  ${info.deliveryId ?? '-'}  ${verdictMark(verdict)}  ${outcome}`);
    if (flags.verbose) {
      for (const [name, value] of Object.entries(headers)) println(color.dim(`  ${name}: ${Array.isArray(value) ? value.join(', ') : value}`));
      const body = info.payload !== undefined ? JSON.stringify(info.payload, null, 2) : text;
      println(body.replace(/^/gm, '  '));
      println();
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      process.stderr.write(`herald listen: ${(error as Error).message}\n`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new CliError(`port ${flags.port} on ${flags.host} is in use: pick another with --port`, EXIT.usage)
          : new CliError(`cannot listen on ${flags.host}:${flags.port}: ${error.message}`, EXIT.usage),
      );
    });
    server.listen(flags.port, flags.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  const err = (line: string) => process.stderr.write(`${line}\n`);
  err(`${color.green('Ready!', process.stderr)} Listening on ${url} (any path)`);
  const labels = candidates.map((c) => c.label).join(' | ');
  if (secrets.length > 0) err(`Verifying ${labels} with ${secrets.length} ${secrets.length === 1 ? 'secret' : 'secrets'}`);
  else if (candidates.every((c) => c.resolved.scheme.scheme === 'none' && c.resolved.bodySecret === null)) err(`Scheme ${labels}: nothing to verify`);
  else err(color.yellow(`No --secret: requests are shown but not verified (${labels})`, process.stderr));
  if (flags.forward !== undefined) err(`Forwarding to ${flags.forward}`);
  err(color.dim('Ctrl-C to stop.', process.stderr));

  await new Promise<void>((resolve) => {
    const stop = () => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await agent.close();
}

export function registerListen(program: Command): void {
  addVerificationOptions(
    addClientOptions(
      program
        .command('listen')
        .description('a local receiver for development: verifies, prints and optionally forwards every delivery')
        .addOption(new Option('-p, --port <port>', 'port to listen on (0: any free port)').argParser((v) => (v === '0' ? 0 : positiveInt(v))).default(8787))
        .option('--host <host>', 'address to listen on', '127.0.0.1')
        .option('--forward <url>', "forward each request (but those failing verification) to your app and answer Herald with your app's answer")
        .option('--webhook <org/id>', "fetch this webhook's secret from Herald (uses --url/--token)")
        .option('-v, --verbose', 'print headers and body of each request')
        .addOption(new Option('--max-body <bytes>', 'largest body accepted').argParser(positiveInt).default(5 * 1024 * 1024)),
    ),
  )
    .addHelpText(
      'after',
      `
Answers: 401 when a secret is given and the request does not verify; otherwise 200, or with
--forward your app's status and body (502 when it cannot be reached). One line per request on
stdout (JSON lines when stdout is not a terminal or with --json); the banner goes to stderr.

Examples:
  herald listen --secret whsec_…
  herald listen --profile vercel --secret my-vercel-secret --forward http://127.0.0.1:3000/api/hook
  herald listen --webhook acme/whk_… --verbose`,
    )
    .action((flags: ListenFlags) => runCommand(() => listen(flags)));
}
