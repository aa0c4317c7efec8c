/** `herald deliveries list|show|retry`. */
import { Option, type Command } from 'commander';
import { seg, withClient, type HeraldClient } from '../client.js';
import { CliError, runCommand } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { color, printFields, printJson, println, printMore, printTable, shortTime, wantsJson } from '../output.js';
import { positiveInt } from '../parse.js';
import { Progress } from '../progress.js';
import { addClientOptions, type ClientFlags } from './common.js';

export interface AttemptBody {
  id: string;
  attemptNumber: number;
  at: string;
  durationMs: number;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
  responseStatus: number | null;
  responseHeaders: Record<string, string>;
  responseBody: string | null;
  error: string | null;
  errorMessage: string | null;
}

export interface DeliveryBody {
  id: string;
  eventId: string;
  webhookId: string;
  organizationId: string;
  status: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  attempts?: AttemptBody[];
}

const STATUSES = ['pending', 'succeeded', 'failed', 'skipped', 'cancelled'];

const deliveryPath = (org: string, id: string) => `/organizations/${seg(org)}/deliveries/${seg(id)}`;

export function paintStatus(status: string): string {
  if (status === 'succeeded') return color.green(status);
  if (status === 'failed') return color.red(status);
  if (status === 'pending') return color.yellow(status);
  return status;
}

function attemptOutcome(a: AttemptBody): string {
  if (a.responseStatus !== null) {
    const text = `HTTP ${a.responseStatus}`;
    return a.responseStatus >= 200 && a.responseStatus < 300 ? color.green(text) : color.red(text);
  }
  return color.red(a.error ?? 'error');
}

/** A body for people: pretty JSON when it is JSON, else as it is. */
function prettyBody(body: string | null): string {
  if (body === null || body === '') return color.dim('(empty)');
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export function printDelivery(d: DeliveryBody, verbose: boolean): void {
  printFields([
    ['id', d.id],
    ['status', paintStatus(d.status)],
    ['event', d.eventId],
    ['webhook', d.webhookId],
    ['attempts', String(d.attemptCount)],
    ['next attempt', shortTime(d.nextAttemptAt)],
    ['created', shortTime(d.createdAt)],
  ]);
  const attempts = d.attempts ?? [];
  if (attempts.length === 0) return;
  println();
  printTable(
    ['#', 'AT', 'OUTCOME', 'DURATION', 'DETAIL'],
    attempts.map((a) => [String(a.attemptNumber), shortTime(a.at), attemptOutcome(a), `${a.durationMs} ms`, a.errorMessage ?? (a.responseBody ?? '').slice(0, 60)]),
  );
  if (!verbose) return;
  for (const a of attempts) {
    println();
    println(color.bold(`attempt ${a.attemptNumber} → ${a.url}`));
    for (const [name, value] of Object.entries(a.requestHeaders)) println(`${color.dim(name)}: ${value}`);
    println(prettyBody(a.requestBody));
    println(color.bold(`answer: ${a.responseStatus ?? a.error ?? '-'}`));
    for (const [name, value] of Object.entries(a.responseHeaders)) println(`${color.dim(name)}: ${value}`);
    println(prettyBody(a.responseBody));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a delivery until it has more than `attemptsBefore` attempts, then returns it with its attempts. */
export async function waitForAttempt(client: HeraldClient, org: string, id: string, attemptsBefore: number, timeoutMs: number): Promise<DeliveryBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const delivery = await client.call<DeliveryBody>('GET', deliveryPath(org, id));
    if (delivery.attemptCount > attemptsBefore) return delivery;
    if (Date.now() > deadline) {
      throw new CliError(`delivery ${id}: no attempt within ${Math.round(timeoutMs / 1000)} s (status ${delivery.status}, next attempt ${delivery.nextAttemptAt ?? '-'})`, EXIT.usage);
    }
    await sleep(250);
  }
}

interface ListFlags extends ClientFlags {
  webhook?: string;
  event?: string;
  status?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
}

interface RetryFlags extends ClientFlags {
  wait?: boolean;
  waitTimeout: number;
}

async function retry(org: string, ids: string[], flags: RetryFlags): Promise<void> {
  await withClient(flags, async (client) => {
    const json = wantsJson(flags);
    const progress = new Progress(`retrying ${ids.length} deliveries`, ids.length, { enabled: ids.length > 1 && process.stderr.isTTY === true });
    const results: { id: string; status: string; attemptCount?: number; responseStatus?: number | null; error?: string }[] = [];
    let firstError: CliError | null = null;
    for (const id of ids) {
      try {
        const before = flags.wait ? (await client.call<DeliveryBody>('GET', deliveryPath(org, id))).attemptCount : 0;
        await client.call('POST', `${deliveryPath(org, id)}/retry`);
        if (flags.wait) {
          const after = await waitForAttempt(client, org, id, before, flags.waitTimeout * 1000);
          const last = after.attempts?.at(-1);
          results.push({ id, status: after.status, attemptCount: after.attemptCount, responseStatus: last?.responseStatus ?? null });
        } else {
          results.push({ id, status: 'pending' });
        }
        progress.tick(1);
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        firstError ??= error;
        results.push({ id, status: 'error', error: error.message });
        progress.tick(1, 1);
        if (error.exitCode === EXIT.unreachable || error.exitCode === EXIT.auth) break;
      }
    }
    progress.finish({ clear: true });
    if (json) printJson(ids.length === 1 && firstError === null ? results[0] : results);
    else {
      for (const r of results) {
        if (r.error !== undefined) continue;
        const outcome = r.attemptCount !== undefined ? ` → ${paintStatus(r.status)}${r.responseStatus !== null && r.responseStatus !== undefined ? ` (HTTP ${r.responseStatus})` : ''}` : ' queued for a new attempt now';
        println(`${color.green('✓')} ${r.id}${outcome}`);
      }
    }
    if (firstError !== null) {
      if (ids.length === 1) throw firstError;
      for (const r of results) if (r.error !== undefined) process.stderr.write(`herald: ${r.id}: ${r.error}\n`);
      process.exitCode = firstError.exitCode;
    }
  });
}

export function registerDeliveries(program: Command): void {
  const deliveries = program.command('deliveries').description('look at deliveries and their attempts; retry them');

  addClientOptions(
    deliveries
      .command('list')
      .description("an organization's deliveries, newest first")
      .argument('<org>', 'organization id')
      .option('--webhook <id>', 'only this webhook')
      .option('--event <id>', 'only this event')
      .addOption(new Option('--status <status>', 'only this status').choices(STATUSES))
      .addOption(new Option('--limit <n>', 'page size (1-250)').argParser(positiveInt))
      .option('--cursor <cursor>', 'the next page (from the previous answer)')
      .option('--all', 'follow every page'),
  ).action((org: string, flags: ListFlags) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const path = `/organizations/${seg(org)}/deliveries`;
        const query = { webhookId: flags.webhook, eventId: flags.event, status: flags.status };
        const page = flags.all
          ? { data: await client.all<DeliveryBody>(path, query), nextCursor: null }
          : await client.call<{ data: DeliveryBody[]; nextCursor: string | null }>('GET', path, { query: { ...query, limit: flags.limit, cursor: flags.cursor } });
        if (wantsJson(flags)) return printJson(page);
        printTable(
          ['ID', 'STATUS', 'ATTEMPTS', 'EVENT', 'WEBHOOK', 'NEXT ATTEMPT', 'CREATED'],
          page.data.map((d) => [d.id, paintStatus(d.status), String(d.attemptCount), d.eventId, d.webhookId, shortTime(d.nextAttemptAt), shortTime(d.createdAt)]),
          'no deliveries',
        );
        printMore(page.nextCursor);
      }),
    ),
  );

  addClientOptions(
    deliveries
      .command('show')
      .description('a delivery with its attempts')
      .argument('<org>', 'organization id')
      .argument('<id>', 'delivery id (dlv_…)')
      .option('-v, --verbose', 'every attempt with its request and response headers and bodies'),
  ).action((org: string, id: string, flags: ClientFlags & { verbose?: boolean }) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const delivery = await client.call<DeliveryBody>('GET', deliveryPath(org, id));
        if (wantsJson(flags)) printJson(delivery);
        else printDelivery(delivery, flags.verbose === true);
      }),
    ),
  );

  addClientOptions(
    deliveries
      .command('retry')
      .description('one new attempt now, whatever the status')
      .argument('<org>', 'organization id')
      .argument('<ids...>', 'delivery ids (dlv_…)')
      .option('-w, --wait', 'wait for each new attempt and show its outcome')
      .addOption(new Option('--wait-timeout <s>', 'give up waiting after this many seconds').argParser(positiveInt).default(60)),
  ).action((org: string, ids: string[], flags: RetryFlags) => runCommand(() => retry(org, ids, flags)));
}
