/** Options every client command has: where Herald is, the token, and the output mode. */
import { Option, type Command } from 'commander';
import type { ConnectionFlags } from '../client.js';
import type { OutputFlags } from '../output.js';
import { positiveInt } from '../parse.js';

export type ClientFlags = ConnectionFlags & OutputFlags;

export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', 'Herald base URL; env HERALD_URL (default http://127.0.0.1:8080)'))
    .addOption(new Option('--token <token>', 'API token; env HERALD_TOKEN, else ./.herald/admin-token when present'))
    .addOption(new Option('--timeout <ms>', 'how long to wait for Herald, ms (default 30000)').argParser(positiveInt));
}

export function addOutputOptions(command: Command): Command {
  return command
    .addOption(new Option('--json', 'print JSON (the default when stdout is not a terminal)'))
    .addOption(new Option('--no-json', 'print tables and text even when stdout is not a terminal'));
}

/** Both: every command that talks to a running Herald. */
export function addClientOptions(command: Command): Command {
  return addOutputOptions(addConnectionOptions(command));
}
