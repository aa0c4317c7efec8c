/**
 * `herald organizations create|list` and `herald event-types put|list`: the operator's setup
 * steps, so the README walkthrough needs no curl.
 */
import { Option, type Command } from 'commander';
import { seg, withClient } from '../client.js';
import { runCommand } from '../errors.js';
import { color, printJson, println, printMore, printTable, shortTime, wantsJson } from '../output.js';
import { jsonArgument, positiveInt } from '../parse.js';
import { addClientOptions, type ClientFlags } from './common.js';

interface OrganizationBody {
  id: string;
  name: string | null;
  createdAt: string;
}

interface EventTypeBody {
  name: string;
  description: string;
  group: string | null;
  deprecated: boolean;
  archived: boolean;
  schema: unknown;
}

interface PageFlags extends ClientFlags {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

export function registerCatalog(program: Command): void {
  const organizations = program.command('organizations').alias('orgs').description("your customers' organizations (operator token)");

  addClientOptions(
    organizations
      .command('create')
      .description('create an organization with your own id for it')
      .argument('<id>', 'organization id')
      .option('--name <name>', 'display name')
      .option('--metadata <json>', 'free-form JSON object, or @file'),
  ).action((id: string, flags: ClientFlags & { name?: string; metadata?: string }) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const body = {
          id,
          ...(flags.name !== undefined ? { name: flags.name } : {}),
          ...(flags.metadata !== undefined ? { metadata: jsonArgument(flags.metadata, '--metadata') } : {}),
        };
        const created = await client.call<OrganizationBody>('POST', '/organizations', { body });
        if (wantsJson(flags)) printJson(created);
        else println(`${color.green('✓')} organization ${created.id} created`);
      }),
    ),
  );

  addClientOptions(
    organizations
      .command('list')
      .description('every organization')
      .addOption(new Option('--limit <n>', 'page size (1-250)').argParser(positiveInt))
      .option('--cursor <cursor>', 'the next page (from the previous answer)')
      .option('--all', 'follow every page'),
  ).action((flags: PageFlags) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const page = flags.all
          ? { data: await client.all<OrganizationBody>('/organizations'), nextCursor: null }
          : await client.call<{ data: OrganizationBody[]; nextCursor: string | null }>('GET', '/organizations', { query: { limit: flags.limit, cursor: flags.cursor } });
        if (wantsJson(flags)) return printJson(page);
        printTable(['ID', 'NAME', 'CREATED'], page.data.map((o) => [o.id, o.name ?? '-', shortTime(o.createdAt)]), 'no organizations');
        printMore(page.nextCursor);
      }),
    ),
  );

  const eventTypes = program.command('event-types').description('the event catalog (operator token)');

  addClientOptions(
    eventTypes
      .command('put')
      .description('create or replace an event type')
      .argument('<name>', 'type name, e.g. invoice.paid')
      .requiredOption('--description <text>', 'what happened')
      .option('--group <group>', 'group for group.* subscriptions (default: the part before the first dot)')
      .option('--schema <json>', "JSON Schema of the event's data: JSON, @file or -")
      .option('--example <json>', 'an example of data: JSON or @file'),
  ).action((name: string, flags: ClientFlags & { description: string; group?: string; schema?: string; example?: string }) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const body = {
          description: flags.description,
          ...(flags.group !== undefined ? { group: flags.group } : {}),
          ...(flags.schema !== undefined ? { schema: jsonArgument(flags.schema, '--schema') } : {}),
          ...(flags.example !== undefined ? { examples: [jsonArgument(flags.example, '--example')] } : {}),
        };
        const saved = await client.call<EventTypeBody>('PUT', `/event-types/${seg(name)}`, { body });
        if (wantsJson(flags)) printJson(saved);
        else println(`${color.green('✓')} event type ${saved.name} saved${saved.group !== null ? ` (group ${saved.group})` : ''}`);
      }),
    ),
  );

  addClientOptions(
    eventTypes
      .command('list')
      .description('the catalog')
      .option('--group <group>', 'only this group')
      .option('--include-deprecated', 'deprecated types too'),
  ).action((flags: ClientFlags & { group?: string; includeDeprecated?: boolean }) =>
    runCommand(() =>
      withClient(flags, async (client) => {
        const query = { group: flags.group, includeDeprecated: flags.includeDeprecated ? 'true' : undefined };
        const types = await client.all<EventTypeBody>('/event-types', query);
        if (wantsJson(flags)) return printJson({ data: types, nextCursor: null });
        printTable(
          ['NAME', 'GROUP', 'DESCRIPTION'],
          types.map((t) => [t.name + (t.deprecated ? color.dim(' (deprecated)') : ''), t.group ?? '-', t.description]),
          'no event types',
        );
      }),
    ),
  );
}
