/**
 * Errors a CLI command ends with: a message for stderr and an exit code (see exit-codes.ts).
 * `runCommand` turns them, and config/profile errors, into that output and code.
 */
import { EXIT, type ExitCode } from './exit-codes.js';

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** Extra lines for stderr (the API's error details). */
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

/** Config and profile errors are recognised by name so this module need not import the (heavy) loaders. */
function isConfigError(error: unknown): error is Error {
  return error instanceof Error && (error.name === 'ConfigError' || error.name === 'ProfileError');
}

/** Runs a command body; a known error becomes a message on stderr and the exit code. */
export async function runCommand(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`herald: ${error.message}\n`);
      for (const line of error.details) process.stderr.write(`  ${line}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    if (isConfigError(error)) {
      process.stderr.write(`herald: ${error.message}\n`);
      process.exitCode = EXIT.config;
      return;
    }
    process.stderr.write(`herald: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT.usage;
  }
}
