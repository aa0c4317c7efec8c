/**
 * Exit codes of the `herald` command, the same for every command, so scripts can branch on them.
 * Listed in `herald --help` and the README; changing one is an interface change.
 */
export const EXIT = {
  ok: 0,
  /** Wrong usage (unknown option, missing argument) or any other error. */
  usage: 1,
  /** Config or profile error (`serve`, `migrate`, `--profile`). */
  config: 2,
  /** The server answered 404: no such organization, webhook, delivery or event. */
  notFound: 3,
  /** The server answered 401 or 403: missing, wrong or insufficient token. */
  auth: 4,
  /** No answer: connection refused, DNS failure, timeout. */
  unreachable: 5,
  /** The input was refused: 400, 409, 413, 415, 422 from the server, or an unreadable local file. */
  invalidInput: 6,
  /** The server failed: 5xx. */
  server: 7,
  /** `herald verify`: the request's signature (or body secret) does not verify. */
  invalidSignature: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code for an HTTP error status from Herald. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return EXIT.notFound;
  if (status === 401 || status === 403) return EXIT.auth;
  if ([400, 409, 413, 415, 422].includes(status)) return EXIT.invalidInput;
  if (status >= 500) return EXIT.server;
  return EXIT.usage;
}

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  usage error or other failure
  2  config or profile error
  3  not found (HTTP 404)
  4  authentication or permission (HTTP 401, 403)
  5  server unreachable (connection refused, DNS, timeout)
  6  invalid input (HTTP 400, 409, 413, 415, 422; unreadable --data/--file)
  7  server error (HTTP 5xx)
  8  signature does not verify (herald verify)`;
