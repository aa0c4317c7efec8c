/** `herald webhooks list|show|create|update|delete|secret|rotate-secret|test`. */
import { Option, type Command } from 'commander';
import { seg, withClient, type HeraldClient } from '../client.js';
import { runCommand, usageError } from '../errors.js';
import { color, printFields, printJson, println, printMore, printTable, shortTime, wantsJson } from '../output.js';
import { collect, jsonArgument, keyLists, keyValues, nonNegativeNumber, positiveInt } from '../parse.js';
import { addClientOptions, type ClientFlags } from './common.js';
import { printDelivery, waitForAttempt, type DeliveryBody } from './deliveries.js';

export interface WebhookBody {
  id: string;
  organizationId: string;
  url: string;
  kind: string;
  description: string;
  enabled: boolean;
  events: string[];
  filters: Record<string, string[]>;
  format: string | null;
  headers: Record<string, string>;
  rateLimit: number | null;
  timeoutMs: number | null;
  signing: string;
  failingSince: string | null;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

interface SecretBody {
  secret: string;
  publicKey?: string;
}

interface SettingsFlags extends ClientFlags {
  endpoint?: string;
  event?: string[];
  allEvents?: boolean;
  filter?: string[];
  header?: string[];
  description?: string;
  format?: string;
  secret?: string;
  signing?: string;
  kind?: string;
  rateLimit?: number;
  timeoutMs?: number;
  concurrency?: number;
  metadata?: string;
  body?: string;
  enable?: boolean;
  disable?: boolean;
}

const webhooksPath = (org: string) => `/organizations/${seg(org)}/webhooks`;
const webhookPath = (org: string, id: string) => `${webhooksPath(org)}/${seg(id)}`;

function state(w: WebhookBody): string {
  if (!w.enabled) return color.yellow(`disabled${w.disabledReason ? ` (${w.disabledReason})` : ''}`);
  if (w.failingSince !== null) return color.red(`failing since ${shortTime(w.failingSince)}`);
  return color.green('enabled');
}

function printWebhook(w: WebhookBody, secret?: SecretBody): void {
  const fields: [string, string][] = [
    ['id', w.id],
    ['url', w.url],
    ['state', state(w)],
    ['events', w.events.length > 0 ? w.events.join(', ') : '* (every type)'],
  ];
  if (Object.keys(w.filters).length > 0) fields.push(['filters', JSON.stringify(w.filters)]);
  if (w.description !== '') fields.push(['description', w.description]);
  if (w.kind !== 'standard') fields.push(['kind', w.kind]);
  fields.push(['format', w.format ?? '(profile default)'], ['signing', w.signing]);
  if (Object.keys(w.headers).length > 0) fields.push(['headers', JSON.stringify(w.headers)]);
  if (w.rateLimit !== null) fields.push(['rate limit', `${w.rateLimit}/s`]);
  if (w.timeoutMs !== null) fields.push(['timeout', `${w.timeoutMs} ms`]);
  if (secret) {
    fields.push(['secret', secret.secret]);
    if (secret.publicKey) fields.push(['public key', secret.publicKey]);
  }
  fields.push(['created', shortTime(w.createdAt)], ['updated', shortTime(w.updatedAt)]);
  printFields(fields);
}

/** The request body of create/update from `--body` and the individual flags (flags win). */
function settingsBody(flags: SettingsFlags, forUpdate: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (flags.body !== undefined) {
    const given = jsonArgument(flags.body, '--body');
    if (typeof given !== 'object' || given === null || Array.isArray(given)) throw usageError('--body must be a JSON object');
    Object.assign(body, given);
  }
  if (flags.endpoint !== undefined) body.url = flags.endpoint;
  if (flags.allEvents) body.events = [];
  if (flags.event !== undefined) body.events = flags.event.flatMap((e) => e.split(',')).map((e) => e.trim()).filter((e) => e !== '');
  if (flags.filter !== undefined) body.filters = keyLists(flags.filter, '--filter');
  if (flags.header !== undefined) body.headers = keyValues(flags.header, '--header');
  if (flags.description !== undefined) body.description = flags.description;
  if (flags.format !== undefined) body.format = flags.format;
  if (flags.signing !== undefined) body.signing = flags.signing;
  if (flags.kind !== undefined) body.kind = flags.kind;
  if (flags.rateLimit !== undefined) body.rateLimit = flags.rateLimit === 0 ? null : flags.rateLimit;
  if (flags.timeoutMs !== undefined) body.timeoutMs = flags.timeoutMs;
  if (flags.concurrency !== undefined) body.concurrency = flags.concurrency;
  if (flags.metadata !== undefined) body.metadata = jsonArgument(flags.metadata, '--metadata');
  if (flags.enable && flags.disable) throw usageError('--enable and --disable together');
  if (flags.enable) body.enabled = true;
  if (flags.disable) body.enabled = false;
  if (!forUpdate && flags.secret !== undefined) body.secret = flags.secret;
  return body;
}

/** `herald listen …` for a webhook pointing at this machine, or null. */
export function listenHint(webhookUrl: string, secret: string): string | null {
  let target: URL;
  try {
    target = new URL(webhookUrl);
  } catch {
    return null;
  }
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname) || target.protocol !== 'http:') return null;
  const port = target.port === '' ? '80' : target.port;
  return `herald listen${port !== '8787' ? ` --port ${port}` : ''} --secret ${secret}`;
}

async function getSecret(client: HeraldClient, org: string, id: string): Promise<SecretBody> {
  return client.call<SecretBody>('GET', `${webhookPath(org, id)}/secret`);
}

function addSettingsOptions(command: Command): Command {
  return command
    .option('-e, --event <type>', 'subscribe to a type, group.* or * (repeatable, or comma-separated)', collect)
    .option('--filter <key=pattern>', 'attribute filter, e.g. projectName=front* (repeatable; comma for OR)', collect)
    .option('--header <name=value>', 'custom header sent with every request (repeatable)', collect)
    .option('--description <text>', 'a note for people')
    .option('--format <name>', "the profile's format to send (default: the profile's default)")
    .addOption(new Option('--signing <kind>', 'signature key type').choices(['hmac', 'ed25519']))
    .addOption(new Option('--kind <kind>', 'standard or slack (Slack incoming webhook)').choices(['standard', 'slack']))
    .addOption(new Option('--rate-limit <n>', 'requests per second (0: unlimited)').argParser(nonNegativeNumber))
    .addOption(new Option('--timeout-ms <ms>', 'answer timeout for this webhook').argParser(positiveInt))
    .addOption(new Option('--concurrency <n>', 'requests in flight to this webhook').argParser(positiveInt))
    .option('--metadata <json>', 'free-form JSON object, or @file')
    .option('--body <json>', 'the whole API body as JSON or @file (flags override its fields)');
}

interface ListFlags extends ClientFlags {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

export function registerWebhooks(program: Command): void {
  const webhooks = program.command('webhooks').description("manage an organization's webhooks");

  addClientOptions(
    webhooks
      .command('list')
      .description("an organization's webhooks")
      .argument('<org>', 'organization id')
      .addOption(new Option('--limit <n>', 'page size (1-250)').argParser(positiveInt))
      .option('--cursor <cursor>', 'the next page (from the previous answer)')
      .option('--all', 'follow every page'),
  ).action((org: string, flags: ListFlags) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const page = flags.all
          ? { data: await client.all<WebhookBody>(webhooksPath(org)), nextCursor: null }
          : await client.call<{ data: WebhookBody[]; nextCursor: string | null }>('GET', webhooksPath(org), { query: { limit: flags.limit, cursor: flags.cursor } });
        if (wantsJson(flags)) return printJson(page);
        printTable(
          ['ID', 'URL', 'EVENTS', 'STATE', 'CREATED'],
          page.data.map((w) => [w.id, w.url, w.events.length > 0 ? w.events.join(',') : '*', state(w), shortTime(w.createdAt)]),
          'no webhooks',
        );
        printMore(page.nextCursor);
      }),
    ),
  );

  addClientOptions(
    webhooks.command('show').description('one webhook').argument('<org>', 'organization id').argument('<id>', 'webhook id (whk_…)'),
  ).action((org: string, id: string, flags: ClientFlags) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const webhook = await client.call<WebhookBody>('GET', webhookPath(org, id));
        if (wantsJson(flags)) printJson(webhook);
        else printWebhook(webhook);
      }),
    ),
  );

  addClientOptions(
    addSettingsOptions(
      webhooks
        .command('create')
        .description('register a webhook; prints it with its signing secret')
        .argument('<org>', 'organization id')
        .argument('<url>', 'where deliveries go (http or https)')
        .option('--secret <secret>', 'signing secret (whsec_…, or the plain string a format expects); generated when absent')
        .option('--disabled', 'create it disabled'),
    ),
  ).action((org: string, url: string, flags: SettingsFlags & { disabled?: boolean }) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const body = { ...settingsBody(flags, false), url, ...(flags.disabled ? { enabled: false } : {}) };
        const webhook = await client.call<WebhookBody>('POST', webhooksPath(org), { body });
        const secret = await getSecret(client, org, webhook.id);
        // The API never returns the secret with the webhook; the CLI adds it, since it is what you need next.
        if (wantsJson(flags)) return printJson({ ...webhook, ...secret });
        printWebhook(webhook, secret);
        println();
        const hint = listenHint(url, secret.publicKey ?? secret.secret);
        if (hint !== null) println(color.dim(`receive it here: ${hint}`));
      }),
    ),
  );

  addClientOptions(
    addSettingsOptions(
      webhooks
        .command('update')
        .description('change a webhook (only the settings given)')
        .argument('<org>', 'organization id')
        .argument('<id>', 'webhook id (whk_…)')
        .option('--endpoint <url>', 'new delivery URL (--url is where Herald is)')
        .option('--all-events', 'subscribe to every type (clears --event)')
        .option('--enable', 'enable it (deliveries skipped while disabled can be re-sent with `herald recover`)')
        .option('--disable', 'disable it (new deliveries are recorded as skipped)'),
    ),
  ).action((org: string, id: string, flags: SettingsFlags) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const body = settingsBody(flags, true);
        if (Object.keys(body).length === 0) throw usageError('nothing to change: give at least one setting (see --help)');
        const webhook = await client.call<WebhookBody>('PATCH', webhookPath(org, id), { body });
        if (wantsJson(flags)) printJson(webhook);
        else printWebhook(webhook);
      }),
    ),
  );

  addClientOptions(
    webhooks.command('delete').description('delete a webhook; its queued deliveries are cancelled').argument('<org>', 'organization id').argument('<id>', 'webhook id (whk_…)'),
  ).action((org: string, id: string, flags: ClientFlags) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        await client.call('DELETE', webhookPath(org, id));
        if (wantsJson(flags)) printJson({ id, deleted: true });
        else println(`${color.green('✓')} webhook ${id} deleted`);
      }),
    ),
  );

  addClientOptions(
    webhooks.command('secret').description("a webhook's current signing secret").argument('<org>', 'organization id').argument('<id>', 'webhook id (whk_…)'),
  ).action((org: string, id: string, flags: ClientFlags) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const secret = await getSecret(client, org, id);
        if (wantsJson(flags)) return printJson(secret);
        println(secret.secret);
        if (secret.publicKey) println(`${color.dim('public key')} ${secret.publicKey}`);
      }),
    ),
  );

  addClientOptions(
    webhooks
      .command('rotate-secret')
      .description('new signing secret; the previous one keeps signing during the grace period (24 h)')
      .argument('<org>', 'organization id')
      .argument('<id>', 'webhook id (whk_…)')
      .option('--secret <secret>', 'the new secret (generated when absent)'),
  ).action((org: string, id: string, flags: ClientFlags & { secret?: string }) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const secret = await client.call<SecretBody>('POST', `${webhookPath(org, id)}/rotate-secret`, { body: flags.secret !== undefined ? { secret: flags.secret } : {} });
        if (wantsJson(flags)) return printJson(secret);
        println(`${color.green('✓')} new secret (the previous one still signs during the grace period):`);
        println(secret.secret);
        if (secret.publicKey) println(`${color.dim('public key')} ${secret.publicKey}`);
      }),
    ),
  );

  addClientOptions(
    webhooks
      .command('test')
      .description("send the profile's test event to a webhook")
      .argument('<org>', 'organization id')
      .argument('<id>', 'webhook id (whk_…)')
      .option('-w, --wait', 'wait for the attempt and show its outcome')
      .addOption(new Option('--wait-timeout <s>', 'give up waiting after this many seconds').argParser(positiveInt).default(60)),
  ).action((org: string, id: string, flags: ClientFlags & { wait?: boolean; waitTimeout: number }) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const sent = await client.call<{ deliveryId: string; eventId: string }>('POST', `${webhookPath(org, id)}/test`);
        if (!flags.wait) {
          if (wantsJson(flags)) return printJson(sent);
          return println(`${color.green('✓')} test event ${sent.eventId} queued: delivery ${sent.deliveryId}`);
        }
        const delivery: DeliveryBody = await waitForAttempt(client, org, sent.deliveryId, 0, flags.waitTimeout * 1000);
        if (wantsJson(flags)) return printJson(delivery);
        printDelivery(delivery, false);
      }),
    ),
  );
}
