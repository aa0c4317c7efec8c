#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * The `herald` command. `serve` and `migrate` run Herald itself; the client commands
 * (`organizations`, `event-types`, `events`, `webhooks`, `deliveries`, `recover`) talk to a
 * running Herald over its API; `listen` and
 * `verify` are the receiving side for development.
 *
 * The server's modules (config with Ajv, Fastify, the stores) are loaded only for `serve` and
 * `migrate`, so client commands start fast.
 */
import { Command, Option } from 'commander';
import { VERSION } from '../version.js';
import { registerCatalog } from './commands/catalog.js';
import { registerDeliveries } from './commands/deliveries.js';
import { registerEvents } from './commands/events.js';
import { registerListen } from './commands/listen.js';
import { registerRecover } from './commands/recover.js';
import { registerVerify } from './commands/verify.js';
import { registerWebhooks } from './commands/webhooks.js';
import { EXIT_CODES_HELP } from './exit-codes.js';
import type * as ConfigNamespace from '../config.js';

type ConfigModule = typeof ConfigNamespace;

/** Every config option that has a flag becomes one, with its env variable and default in the help. */
function addConfigOptions(command: Command, config: ConfigModule | null): Command {
  if (config === null) return command;
  command.addOption(new Option('--config <file>', 'config file (YAML or JSON); env HERALD_CONFIG'));
  for (const option of config.CONFIG_OPTIONS) {
    if (option.flag === null) continue;
    const shownDefault = option.defaultValue === null || option.defaultValue === undefined ? '' : ` (default ${JSON.stringify(option.defaultValue)})`;
    command.addOption(new Option(`${option.flag} <value>`, `${option.description}; env ${option.env}${shownDefault}`));
  }
  return command;
}

/** Start-up errors a person can fix get a plain message and exit code 2, not a stack trace. */
async function guarded(config: ConfigModule, run: () => Promise<void>): Promise<void> {
  const { ProfileError } = await import('../profile/load-profile.js');
  try {
    await run();
  } catch (error) {
    if (error instanceof config.ConfigError || error instanceof ProfileError) {
      process.stderr.write(`herald: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Whether the command line is about `serve` or `migrate` (running them, or their --help). */
function needsServerConfig(argv: readonly string[]): boolean {
  const words = argv.filter((a) => !a.startsWith('-'));
  const first = words[0] === 'help' ? words[1] : words[0];
  return first === 'serve' || first === 'migrate' || first === 'rotate-encryption-key';
}

const config: ConfigModule | null = needsServerConfig(process.argv.slice(2)) ? await import('../config.js') : null;

const program = new Command('herald')
  .description('Herald: webhook delivery service')
  .version(VERSION)
  .showHelpAfterError('(add --help for usage)')
  .addHelpText(
    'after',
    `
Client commands talk to a running Herald: --url (env HERALD_URL, default http://127.0.0.1:8080),
--token (env HERALD_TOKEN, else ./.herald/admin-token). They print tables on a terminal and JSON
otherwise (--json / --no-json to choose).
${EXIT_CODES_HELP}`,
  );

addConfigOptions(program.command('serve').description('run Herald: the API and the dispatcher (by --role)'), config).action(
  async (flags: Record<string, unknown>) => {
    const cfg = config as ConfigModule;
    await guarded(cfg, async () => {
      const { runServe } = await import('./serve.js');
      await runServe(cfg.resolveConfig({ flags }));
    });
  },
);

addConfigOptions(program.command('migrate').description('apply database migrations and exit'), config).action(async (flags: Record<string, unknown>) => {
  const cfg = config as ConfigModule;
  await guarded(cfg, async () => {
    const { runMigrate } = await import('./migrate.js');
    await runMigrate(cfg.resolveConfig({ flags }));
  });
});

addConfigOptions(
  program
    .command('rotate-encryption-key')
    .description('re-encrypt every webhook secret under the current encryption key, in batches, while Herald runs (see SECURITY.md)')
    .addOption(new Option('--batch-size <n>', 'webhooks re-encrypted per transaction').default('500')),
  config,
).action(async (flags: Record<string, unknown>) => {
  const cfg = config as ConfigModule;
  await guarded(cfg, async () => {
    const { runRotateEncryptionKey } = await import('./rotate-encryption-key.js');
    const { batchSize, ...rest } = flags;
    const size = Number(batchSize);
    if (!Number.isInteger(size) || size < 1) throw new cfg.ConfigError([{ option: 'batchSize', source: '--batch-size', message: 'must be a positive integer' }]);
    await runRotateEncryptionKey(cfg.resolveConfig({ flags: rest }), { batchSize: size });
  });
});

registerCatalog(program);
registerEvents(program);
registerWebhooks(program);
registerDeliveries(program);
registerRecover(program);
registerListen(program);
registerVerify(program);

await program.parseAsync(process.argv);
