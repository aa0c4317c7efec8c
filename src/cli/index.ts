#!/usr/bin/env node
/**
 * The `herald` command. `serve` and `migrate` run Herald itself; client
 * commands against a running Herald come with the CLI issue.
 */
import { Command, Option } from 'commander';
import { CONFIG_OPTIONS, ConfigError, resolveConfig, type HeraldConfig } from '../config.js';
import { ProfileError } from '../profile/load-profile.js';
import { VERSION } from '../version.js';
import { runMigrate } from './migrate.js';
import { runServe } from './serve.js';

/** Every config option that has a flag becomes one, with its env variable and default in the help. */
function addConfigOptions(command: Command): Command {
  command.addOption(new Option('--config <file>', 'config file (YAML or JSON); env HERALD_CONFIG'));
  for (const option of CONFIG_OPTIONS) {
    if (option.flag === null) continue;
    const shownDefault = option.defaultValue === null || option.defaultValue === undefined ? '' : ` (default ${JSON.stringify(option.defaultValue)})`;
    command.addOption(new Option(`${option.flag} <value>`, `${option.description}; env ${option.env}${shownDefault}`));
  }
  return command;
}

function configFrom(flags: Record<string, unknown>): HeraldConfig {
  return resolveConfig({ flags });
}

/** Start-up errors a person can fix get a plain message and exit code 2, not a stack trace. */
async function guarded(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ProfileError) {
      process.stderr.write(`herald: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

const program = new Command('herald').description('Herald: webhook delivery service').version(VERSION);

addConfigOptions(program.command('serve').description('run Herald: the API and the dispatcher (by --role)')).action(
  (flags: Record<string, unknown>) => guarded(() => runServe(configFrom(flags))),
);

addConfigOptions(program.command('migrate').description('apply database migrations and exit')).action((flags: Record<string, unknown>) =>
  guarded(() => runMigrate(configFrom(flags))),
);

await program.parseAsync(process.argv);
