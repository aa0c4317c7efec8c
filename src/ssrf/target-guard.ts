/**
 * The SSRF guard: resolves a webhook's host once, checks every address it
 * resolves to, and hands the socket exactly those vetted addresses — there is
 * no second lookup a DNS-rebinding attacker could answer differently. Used at
 * every send (as undici's connect step) and when a webhook's URL is set.
 */
import { promises as dns } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { buildConnector } from 'undici';
import { AddressPolicy, parseAddress } from './address-ranges.js';
import { HeraldBlockedError } from './blocked-error.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has: the seam tests replace, so no test asks a real DNS server. */
export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address in the resolver's order. */
export const systemLookup: LookupAll = async (hostname) =>
  (await dns.lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** What the API learns about a URL's target. `resolved: false`: its name does not resolve now (checked again at send). */
export type TargetVerdict =
  | { allowed: true; resolved: boolean }
  | { allowed: false; reason: string; address: string; range: string };

export interface TargetGuardOptions {
  /** CIDRs webhooks may reach although private (`HERALD_ALLOW_PRIVATE_NETWORKS`). */
  allow?: readonly string[];
  /** @defaultValue systemLookup */
  lookup?: LookupAll;
  /** How long the API waits for a name to resolve before it accepts the URL unchecked. @defaultValue 3000 */
  apiLookupTimeoutMs?: number;
}

function notFound(hostname: string): Error {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
}

const LOOPBACK: readonly ResolvedAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

export class TargetGuard {
  readonly policy: AddressPolicy;
  readonly #lookup: LookupAll;
  readonly #apiLookupTimeoutMs: number;

  constructor(options: TargetGuardOptions = {}) {
    this.policy = new AddressPolicy(options.allow ?? []);
    this.#lookup = options.lookup ?? systemLookup;
    this.#apiLookupTimeoutMs = options.apiLookupTimeoutMs ?? 3000;
  }

  /**
   * Every address of `host` (a name, or an address in any spelling), each
   * checked. Throws HeraldBlockedError when any of them is refused — a name
   * that resolves to a public and a private address is refused as a whole —
   * and the resolver's own error (ENOTFOUND…) when it does not resolve.
   */
  async resolve(host: string): Promise<ResolvedAddress[]> {
    const name = host.toLowerCase().replace(/\.+$/, '');
    const literal = parseAddress(name);
    let addresses: readonly ResolvedAddress[];
    if (literal) {
      addresses = [{ address: literal.toString(), family: literal.kind() === 'ipv6' ? 6 : 4 }];
    } else if (name === 'localhost' || name.endsWith('.localhost')) {
      // RFC 6761: loopback names never go to DNS.
      addresses = LOOPBACK;
    } else if (name === 'invalid' || name.endsWith('.invalid') || name === '') {
      throw notFound(host);
    } else {
      addresses = await this.#lookup(name);
      if (addresses.length === 0) throw notFound(host);
    }
    const vetted: ResolvedAddress[] = [];
    for (const entry of addresses) {
      const parsed = parseAddress(entry.address.split('%')[0] ?? entry.address);
      if (!parsed) throw new HeraldBlockedError(`${host} resolved to ${JSON.stringify(entry.address)}, which is not an IP address`, entry.address, 'none');
      const verdict = this.policy.check(parsed);
      if (!verdict.allowed) {
        const message = literal ? verdict.reason : `${host} resolves to ${verdict.address}, which ${verdict.why}`;
        throw new HeraldBlockedError(message, verdict.address, verdict.range);
      }
      vetted.push({ address: parsed.toString(), family: parsed.kind() === 'ipv6' ? 6 : 4 });
    }
    return vetted;
  }

  /**
   * For the API, when a URL is set: refused when its host is or resolves to a
   * refused address. A name that does not resolve (or not within the timeout)
   * is accepted: the guard checks again at every send.
   */
  async checkUrl(raw: string): Promise<TargetVerdict> {
    const host = new URL(raw).hostname;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#apiLookupTimeoutMs);
    });
    try {
      const outcome = await Promise.race([this.resolve(host), timeout]);
      return { allowed: true, resolved: outcome !== 'timeout' };
    } catch (error) {
      if (error instanceof HeraldBlockedError) return { allowed: false, reason: error.message, address: error.address, range: error.range };
      return { allowed: true, resolved: false };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * undici's connect step with the guard inside. Names go through `lookup`,
   * which Node's socket calls once and then connects to what it returned (all
   * vetted); address literals skip lookup in Node, so they are checked here first.
   */
  connector(options: buildConnector.BuildOptions = {}): buildConnector.connector {
    const lookup = (hostname: string, lookupOptions: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
      this.resolve(hostname).then(
        (addresses) => {
          if (lookupOptions.all) {
            callback(null, addresses);
            return;
          }
          const wanted = Number(lookupOptions.family) || 0;
          const pick = addresses.find((a) => wanted === 0 || a.family === wanted) ?? addresses[0];
          if (!pick) callback(notFound(hostname), '');
          else callback(null, pick.address, pick.family);
        },
        (error: Error) => callback(error, ''),
      );
    };
    const connect = buildConnector({ ...options, lookup } as buildConnector.BuildOptions);
    return (connectOptions, callback) => {
      const literal = parseAddress(connectOptions.hostname);
      if (literal) {
        const verdict = this.policy.check(literal);
        if (!verdict.allowed) {
          callback(new HeraldBlockedError(verdict.reason, verdict.address, verdict.range), null);
          return;
        }
      }
      connect(connectOptions, callback);
    };
  }
}
