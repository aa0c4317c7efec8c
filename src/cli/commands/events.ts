/**
 * `herald events send|list|show`. `send` posts one event, or many: `--count N` copies of it or
 * `--file events.ndjson` (one event body per line), several at a time, with a progress bar.
 */
import { Option, type Command } from 'commander';
import { seg, withClient, type HeraldClient } from '../client.js';
import { CliError, runCommand, usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { color, printFields, printJson, println, printMore, printTable, shortTime, wantsJson } from '../output.js';
import { collect, jsonArgument, keyValues, pointInTime, positiveInt, readInput } from '../parse.js';
import { Progress } from '../progress.js';
import { addClientOptions, type ClientFlags } from './common.js';

interface SendFlags extends ClientFlags {
  data?: string;
  attr?: string[];
  id?: string;
  time?: string;
  idempotencyKey?: string;
  count?: number;
  file?: string;
  concurrency: number;
}

interface Accepted {
  id: string;
  deliveries: { id: string; webhookId: string }[];
}

interface EventBody {
  id: string;
  type: string;
  data: unknown;
  attributes: Record<string, string>;
  externalId: string | null;
  time: string;
  createdAt: string;
  deliveries?: { id: string; webhookId: string; status: string; attemptCount: number }[];
}

type EventInput = Record<string, unknown>;

/** One event body from the flags. */
function eventFromFlags(type: string, flags: SendFlags): EventInput {
  const body: EventInput = { type, data: flags.data !== undefined ? jsonArgument(flags.data, '--data') : {} };
  const attributes = keyValues(flags.attr, '--attr');
  if (Object.keys(attributes).length > 0) body.attributes = attributes;
  if (flags.id !== undefined) body.id = flags.id;
  if (flags.time !== undefined) body.time = flags.time;
  return body;
}

/** Event bodies from an NDJSON file: `{type, data, attributes?, id?, time?}` per line (`type` may come from the argument). */
function eventsFromFile(file: string, defaultType: string | undefined): { line: number; body: EventInput }[] {
  const events: { line: number; body: EventInput }[] = [];
  const lines = readInput(file, '--file').split('\n');
  lines.forEach((text, index) => {
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CliError(`--file line ${index + 1} is not JSON: ${(error as Error).message}`, EXIT.invalidInput);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new CliError(`--file line ${index + 1}: expected an object {type, data, …}`, EXIT.invalidInput);
    }
    const body = { ...(value as EventInput) };
    if (body.type === undefined && defaultType !== undefined) body.type = defaultType;
    if (body.data === undefined) body.data = {};
    if (typeof body.type !== 'string') throw new CliError(`--file line ${index + 1}: no "type" (give it in the line or as the <type> argument)`, EXIT.invalidInput);
    events.push({ line: index + 1, body });
  });
  return events;
}

function printAccepted(accepted: Accepted, json: boolean): void {
  if (json) return printJson(accepted);
  const n = accepted.deliveries.length;
  println(`${color.green('✓')} event ${accepted.id} accepted: ${n} ${n === 1 ? 'delivery' : 'deliveries'}`);
  if (n > 0) {
    printTable(
      ['DELIVERY', 'WEBHOOK'],
      accepted.deliveries.map((d) => [d.id, d.webhookId]),
    );
  }
}

interface BulkError {
  index: number;
  line?: number;
  exitCode: number;
  message: string;
}

/** Posts every body, `concurrency` at a time; stops early when Herald is unreachable or refuses the token. */
async function sendBulk(client: HeraldClient, org: string, bodies: { line?: number; body: EventInput }[], flags: SendFlags): Promise<void> {
  const json = wantsJson(flags);
  const progress = new Progress(`sending ${bodies.length} events`, bodies.length);
  const ids: (string | null)[] = new Array<string | null>(bodies.length).fill(null);
  const errors: BulkError[] = [];
  let deliveries = 0;
  let next = 0;
  let abort: CliError | null = null;
  const startedAt = Date.now();

  const worker = async (): Promise<void> => {
    while (abort === null && next < bodies.length) {
      const index = next++;
      const item = bodies[index] as { line?: number; body: EventInput };
      try {
        const accepted = await client.call<Accepted>('POST', `/organizations/${seg(org)}/events`, { body: item.body });
        ids[index] = accepted.id;
        deliveries += accepted.deliveries.length;
        progress.tick(1);
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        errors.push({ index, ...(item.line !== undefined ? { line: item.line } : {}), exitCode: error.exitCode, message: error.message });
        progress.tick(1, 1);
        if (error.exitCode === EXIT.unreachable || error.exitCode === EXIT.auth) abort = error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(flags.concurrency, bodies.length) }, worker));
  progress.finish({ clear: true });

  const sent = ids.filter((id) => id !== null).length;
  errors.sort((a, b) => a.index - b.index);
  if (json) {
    printJson({ sent, failed: errors.length, notSent: bodies.length - sent - errors.length, deliveries, ids, errors });
  } else {
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    println(`${sent === bodies.length ? color.green('✓') : color.red('✗')} sent ${sent} of ${bodies.length} events in ${seconds} s (${deliveries} deliveries queued, ${errors.length} failed)`);
  }
  const first = errors[0];
  if (first) {
    for (const e of errors.slice(0, 10)) process.stderr.write(`herald: event ${e.line !== undefined ? `on line ${e.line}` : `#${e.index + 1}`}: ${e.message}\n`);
    if (errors.length > 10) process.stderr.write(`herald: … and ${errors.length - 10} more errors\n`);
    process.exitCode = (abort as CliError | null)?.exitCode ?? first.exitCode;
  }
}

async function send(org: string, type: string | undefined, flags: SendFlags): Promise<void> {
  if (flags.file !== undefined && (flags.count !== undefined || flags.data !== undefined || flags.id !== undefined)) {
    throw usageError('--file cannot be combined with --count, --data or --id (each line is a whole event)');
  }
  if (flags.count !== undefined && flags.count > 1 && flags.id !== undefined) throw usageError('--id with --count would post the same event id again: leave --id out');
  if (flags.file === undefined && type === undefined) throw usageError('missing <type> (or --file)');
  await withClient(flags, async (client) => {
    if (flags.file !== undefined) return sendBulk(client, org, eventsFromFile(flags.file, type), flags);
    const body = eventFromFlags(type as string, flags);
    if (flags.count !== undefined && flags.count > 1) {
      return sendBulk(client, org, Array.from({ length: flags.count }, () => ({ body })), flags);
    }
    const headers = flags.idempotencyKey !== undefined ? { 'idempotency-key': flags.idempotencyKey } : undefined;
    const accepted = await client.call<Accepted>('POST', `/organizations/${seg(org)}/events`, { body, ...(headers ? { headers } : {}) });
    printAccepted(accepted, wantsJson(flags));
  });
}

interface ListFlags extends ClientFlags {
  type?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
}

async function list(org: string, flags: ListFlags): Promise<void> {
  await withClient(flags, async (client) => {
    const path = `/organizations/${seg(org)}/events`;
    const query = { type: flags.type };
    const page = flags.all
      ? { data: await client.all<EventBody>(path, query), nextCursor: null }
      : await client.call<{ data: EventBody[]; nextCursor: string | null }>('GET', path, { query: { ...query, limit: flags.limit, cursor: flags.cursor } });
    if (wantsJson(flags)) return printJson(page);
    printTable(
      ['ID', 'TYPE', 'TIME', 'EXTERNAL ID'],
      page.data.map((e) => [e.id, e.type, shortTime(e.time), e.externalId ?? '-']),
      'no events',
    );
    printMore(page.nextCursor);
  });
}

async function show(org: string, id: string, flags: ClientFlags): Promise<void> {
  await withClient(flags, async (client) => {
    const event = await client.call<EventBody>('GET', `/organizations/${seg(org)}/events/${seg(id)}`);
    if (wantsJson(flags)) return printJson(event);
    printFields([
      ['id', event.id],
      ['type', event.type],
      ['time', shortTime(event.time)],
      ['external id', event.externalId ?? '-'],
      ['attributes', Object.keys(event.attributes).length > 0 ? JSON.stringify(event.attributes) : '-'],
    ]);
    println();
    println(JSON.stringify(event.data, null, 2));
    println();
    printTable(
      ['DELIVERY', 'WEBHOOK', 'STATUS', 'ATTEMPTS'],
      (event.deliveries ?? []).map((d) => [d.id, d.webhookId, d.status, String(d.attemptCount)]),
      'no deliveries (no webhook matched)',
    );
  });
}

export function registerEvents(program: Command): void {
  const events = program.command('events').description('post and look at events');

  addClientOptions(
    events
      .command('send')
      .description('post an event (or many: --count, --file) to an organization')
      .argument('<org>', 'organization id')
      .argument('[type]', 'event type (required unless every --file line has one)')
      .option('-d, --data <json>', 'event data: JSON, @file, or - for stdin (default {})')
      .option('-a, --attr <key=value>', 'event attribute for webhook filters (repeatable)', collect)
      .option('--id <id>', "your own event id: posting it again returns the first event")
      .addOption(new Option('--time <time>', 'event time: ISO 8601, or a duration ago (30m)').argParser((v) => pointInTime(v)))
      .option('--idempotency-key <key>', 'Idempotency-Key header (single send)')
      .addOption(new Option('-n, --count <n>', 'post the event this many times (load, demos)').argParser(positiveInt))
      .option('-f, --file <ndjson>', 'post every line of an NDJSON file ({type, data, attributes?, id?, time?}); - for stdin')
      .addOption(new Option('-c, --concurrency <n>', 'requests in flight for --count/--file').argParser(positiveInt).default(8)),
  ).action((org: string, type: string | undefined, flags: SendFlags) => runCommand(() => send(org, type, flags)));

  addClientOptions(
    events
      .command('list')
      .description("an organization's events, newest first")
      .argument('<org>', 'organization id')
      .option('--type <type>', 'only this type')
      .addOption(new Option('--limit <n>', 'page size (1-250)').argParser(positiveInt))
      .option('--cursor <cursor>', 'the next page (from the previous answer)')
      .option('--all', 'follow every page'),
  ).action((org: string, flags: ListFlags) => runCommand(() => list(org, flags)));

  addClientOptions(
    events.command('show').description('an event with its deliveries').argument('<org>', 'organization id').argument('<id>', 'event id (evt_…)'),
  ).action((org: string, id: string, flags: ClientFlags) => runCommand(() => show(org, id, flags)));
}
