/**
 * `herald recover <org> [webhookId] --since …`: re-queues failed and skipped deliveries of one
 * webhook, or of every enabled webhook of the organization. With `--wait` it then follows them
 * until no delivery of those webhooks is pending, with a progress bar.
 */
import { Option, type Command } from 'commander';
import { seg, withClient, type HeraldClient } from '../client.js';
import { CliError, runCommand, usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { color, printJson, println, wantsJson } from '../output.js';
import { pointInTime, positiveInt } from '../parse.js';
import { Progress } from '../progress.js';
import { addClientOptions, type ClientFlags } from './common.js';
import type { WebhookBody } from './webhooks.js';

interface RecoverFlags extends ClientFlags {
  since: string;
  until?: string;
  wait?: boolean;
  waitTimeout: number;
}

interface Recovered {
  webhookId: string;
  count: number;
  skipped?: string;
  error?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function pendingCount(client: HeraldClient, org: string, webhookId: string): Promise<number> {
  const pending = await client.all<{ id: string }>(`/organizations/${seg(org)}/deliveries`, { webhookId, status: 'pending' });
  return pending.length;
}

/** Follows the recovered deliveries until none of those webhooks has a pending delivery, or the time is up. */
async function waitForRecovered(
  client: HeraldClient,
  org: string,
  recovered: Recovered[],
  pendingBefore: Map<string, number>,
  timeoutMs: number,
): Promise<{ delivered: number; stillPending: number }> {
  const targets = recovered.filter((r) => r.count > 0);
  const total = targets.reduce((sum, r) => sum + r.count, 0);
  const progress = new Progress('delivering', total);
  const deadline = Date.now() + timeoutMs;
  let stillPending = total;
  for (;;) {
    let pendingNow = 0;
    for (const r of targets) {
      // Deliveries that were already pending before the recover are not counted as ours.
      pendingNow += Math.min(r.count, Math.max(0, (await pendingCount(client, org, r.webhookId)) - (pendingBefore.get(r.webhookId) ?? 0)));
    }
    stillPending = pendingNow;
    progress.set(total - stillPending);
    if (stillPending === 0 || Date.now() > deadline) break;
    await sleep(500);
  }
  progress.finish({ clear: true });
  return { delivered: total - stillPending, stillPending };
}

async function recover(org: string, webhookId: string | undefined, flags: RecoverFlags): Promise<void> {
  if (flags.until !== undefined && Date.parse(flags.until) <= Date.parse(flags.since)) throw usageError('--until must be after --since');
  await withClient(flags, async (client) => {
    const json = wantsJson(flags);
    let webhooks: { id: string; enabled: boolean }[];
    if (webhookId !== undefined) webhooks = [{ id: webhookId, enabled: true }];
    else webhooks = await client.all<WebhookBody>(`/organizations/${seg(org)}/webhooks`);

    const pendingBefore = new Map<string, number>();
    const recovered: Recovered[] = [];
    const progress = new Progress(`recovering ${webhooks.length} webhooks`, webhooks.length, { enabled: webhooks.length > 1 && process.stderr.isTTY === true });
    let firstError: CliError | null = null;
    for (const webhook of webhooks) {
      if (!webhook.enabled) {
        recovered.push({ webhookId: webhook.id, count: 0, skipped: 'disabled' });
        progress.tick(1);
        continue;
      }
      try {
        if (flags.wait) pendingBefore.set(webhook.id, await pendingCount(client, org, webhook.id));
        const body = { since: flags.since, ...(flags.until !== undefined ? { until: flags.until } : {}) };
        const answer = await client.call<{ count: number }>('POST', `/organizations/${seg(org)}/webhooks/${seg(webhook.id)}/recover`, { body });
        recovered.push({ webhookId: webhook.id, count: answer.count });
        progress.tick(1);
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        // One webhook: its error is the command's error. Several: report it and go on with the others.
        if (webhookId !== undefined || error.exitCode === EXIT.unreachable || error.exitCode === EXIT.auth) {
          progress.finish({ clear: true });
          throw error;
        }
        firstError ??= error;
        recovered.push({ webhookId: webhook.id, count: 0, error: error.message });
        progress.tick(1, 1);
      }
    }
    progress.finish({ clear: true });

    const total = recovered.reduce((sum, r) => sum + r.count, 0);
    const waited = flags.wait && total > 0 ? await waitForRecovered(client, org, recovered, pendingBefore, flags.waitTimeout * 1000) : null;

    if (json) {
      printJson({ count: total, webhooks: recovered, ...(waited ? waited : {}) });
    } else {
      for (const r of recovered) {
        if (r.skipped !== undefined) println(color.dim(`- ${r.webhookId}: skipped (${r.skipped}; enable it first)`));
        else if (r.error !== undefined) println(`${color.red('✗')} ${r.webhookId}: ${r.error}`);
        else if (webhooks.length > 1) println(`${color.green('✓')} ${r.webhookId}: ${r.count} re-queued`);
      }
      println(`${color.green('✓')} ${total} ${total === 1 ? 'delivery' : 'deliveries'} re-queued since ${flags.since}`);
      if (waited) {
        println(
          waited.stillPending === 0
            ? `${color.green('✓')} all ${waited.delivered} attempted`
            : `${color.yellow('…')} ${waited.delivered} attempted, ${waited.stillPending} still pending (retrying; see herald deliveries list ${org} --status pending)`,
        );
      }
    }
    if (firstError !== null) process.exitCode = firstError.exitCode;
  });
}

export function registerRecover(program: Command): void {
  addClientOptions(
    program
      .command('recover')
      .description("re-send a webhook's failed and skipped deliveries (all enabled webhooks of the organization when no id is given)")
      .argument('<org>', 'organization id')
      .argument('[webhookId]', 'webhook id (whk_…); default: every webhook of the organization')
      .addOption(new Option('--since <time>', 'from: ISO time, or a duration ago (30m, 2h, 7d)').argParser((v) => pointInTime(v)).makeOptionMandatory())
      .addOption(new Option('--until <time>', 'to (default now): ISO time, or a duration ago').argParser((v) => pointInTime(v)))
      .option('-w, --wait', 'follow the re-queued deliveries until they are attempted, with a progress bar')
      .addOption(new Option('--wait-timeout <s>', 'stop following after this many seconds').argParser(positiveInt).default(300)),
  ).action((org: string, webhookId: string | undefined, flags: RecoverFlags) => runCommand(() => recover(org, webhookId, flags)));
}
