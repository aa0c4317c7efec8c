/**
 * The SSRF guard, table-driven: every refused range in several spellings,
 * names that resolve to refused addresses through a test resolver, DNS
 * rebinding, and the allow-list. No test here asks a real DNS server, and the
 * only connections made go to a receiver on 127.0.0.1.
 */
import { promises as dns } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSender } from '../../src/delivery/sender.js';
import { AddressPolicy, REFUSED_IPV4, REFUSED_IPV6, parseAddress } from '../../src/ssrf/address-ranges.js';
import { HeraldBlockedError } from '../../src/ssrf/blocked-error.js';
import { TargetGuard, type LookupAll, type ResolvedAddress } from '../../src/ssrf/target-guard.js';

/** A resolver from a table; a function entry gets the call number (1, 2, …) of that name. */
function testResolver(table: Record<string, ResolvedAddress[] | ((call: number) => ResolvedAddress[])>) {
  const calls = new Map<string, number>();
  const lookup: LookupAll = async (hostname) => {
    const n = (calls.get(hostname) ?? 0) + 1;
    calls.set(hostname, n);
    const entry = table[hostname];
    if (entry === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return typeof entry === 'function' ? entry(n) : entry;
  };
  return { lookup, calls };
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });
/** A documentation-free public address: only ever resolved to, never connected to. */
const PUBLIC = v4('93.184.216.34');

const RESOLVER_TABLE = {
  'internal.test': [v4('10.1.2.3')],
  'metadata.test': [v4('169.254.169.254')],
  'mixed.test': [PUBLIC, v4('192.168.0.10')],
  'mapped.test': [v6('::ffff:127.0.0.1')],
  'six.test': [v6('fd00::1')],
  'public.test': [PUBLIC, v6('2606:4700::1111')],
  'rebind.test': (call: number) => (call === 1 ? [PUBLIC] : [v4('127.0.0.1')]),
};

/** Every target is refused with the allow-list off. The comment says what the URL parser makes of it. */
const REFUSED_TARGETS: string[] = [
  'http://127.0.0.1/',
  'http://127.1/', // 127.0.0.1
  'http://0x7f.1/', // 127.0.0.1
  'http://2130706433/', // 127.0.0.1
  'http://0177.0.0.1/', // 127.0.0.1
  'http://0x7f000001/', // 127.0.0.1
  'http://127.255.255.254:8080/',
  'http://localhost/',
  'http://LOCALHOST./',
  'http://api.localhost/',
  'http://0.0.0.0/',
  'http://0/', // 0.0.0.0
  'http://10.0.0.1/',
  'http://012.1/', // 10.0.0.1
  'http://172.16.5.4/',
  'http://172.31.255.255/',
  'http://192.168.1.1/',
  'http://3232235777/', // 192.168.1.1
  'http://169.254.169.254/latest/meta-data/',
  'http://0xa9fea9fe/', // 169.254.169.254
  'http://100.64.0.1/',
  'http://224.0.0.1/',
  'http://239.255.255.250/',
  'http://255.255.255.255/',
  'http://240.0.0.1/',
  'http://198.18.0.1/',
  'http://192.0.2.1/',
  'http://192.0.0.8/',
  'https://203.0.113.7/',
  'http://[::1]/',
  'http://[::]/',
  'http://[0:0:0:0:0:0:0:1]/',
  'http://[::ffff:169.254.169.254]/',
  'http://[::ffff:a9fe:a9fe]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:10.0.0.1]/',
  'http://[::127.0.0.1]/', // IPv4-compatible
  'http://[::ffff:0:7f00:1]/', // IPv4-translated
  'http://[64:ff9b::169.254.169.254]/', // NAT64
  'http://[64:ff9b::10.0.0.1]/',
  'http://[64:ff9b:1::a00:1]/', // local-use NAT64
  'http://[fe80::1]/',
  'http://[fc00::1]/',
  'http://[fd12:3456:789a::1]/',
  'http://[fec0::1]/',
  'http://[ff02::1]/',
  'http://[2001:db8::1]/',
  'http://[2002:a9fe:a9fe::1]/', // 6to4 of 169.254.169.254
  'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', // Teredo
  'http://[100::1]/',
  'http://[::a9fe:a9fe]/',
  'http://internal.test/',
  'http://metadata.test/',
  'http://mixed.test/',
  'http://mapped.test/',
  'http://six.test/',
];

describe('SSRF guard: refused targets', () => {
  const systemLookup = vi.spyOn(dns, 'lookup');
  afterEach(() => expect(systemLookup, 'the system resolver must never be asked').not.toHaveBeenCalled());
  afterAll(() => systemLookup.mockRestore());

  it.each(REFUSED_TARGETS)('refuses %s', async (target) => {
    expect(REFUSED_TARGETS.length).toBeGreaterThanOrEqual(25);
    const { lookup } = testResolver(RESOLVER_TABLE);
    const guard = new TargetGuard({ lookup });
    const host = new URL(target).hostname;
    const error = await guard.resolve(host).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error, `${target} (host ${host}) was let through`).toBeInstanceOf(HeraldBlockedError);
    const verdict = await guard.checkUrl(target);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.reason).toContain(verdict.address);
  });

  it('lets public addresses and names through', async () => {
    const { lookup } = testResolver(RESOLVER_TABLE);
    const guard = new TargetGuard({ lookup });
    expect(await guard.resolve('93.184.216.34')).toEqual([PUBLIC]);
    expect(await guard.resolve('[2606:4700::1111]')).toEqual([v6('2606:4700::1111')]);
    expect(await guard.resolve('[::ffff:93.184.216.34]')).toEqual([v6('::ffff:5db8:d822')]);
    expect(await guard.resolve('public.test')).toEqual([PUBLIC, v6('2606:4700::1111')]);
    expect(await guard.checkUrl('https://public.test/hook')).toEqual({ allowed: true, resolved: true });
  });

  it('says why, naming the address and the range', async () => {
    const guard = new TargetGuard({ lookup: testResolver(RESOLVER_TABLE).lookup });
    expect(await guard.checkUrl('http://metadata.test/')).toEqual({
      allowed: false,
      address: '169.254.169.254',
      range: '169.254.0.0/16',
      reason: 'metadata.test resolves to 169.254.169.254, which is in 169.254.0.0/16, link-local (cloud metadata services live here)',
    });
    const mapped = await guard.checkUrl('http://[::ffff:169.254.169.254]/');
    expect(mapped).toMatchObject({ allowed: false, range: '169.254.0.0/16' });
    if (!mapped.allowed) {
      expect(mapped.reason).toBe('::ffff:a9fe:a9fe is the IPv4-mapped IPv6 form of 169.254.169.254, which is in 169.254.0.0/16, link-local (cloud metadata services live here)');
    }
  });

  it('checks the second resolution of a name too (DNS rebinding between create and send)', async () => {
    const { lookup, calls } = testResolver(RESOLVER_TABLE);
    const guard = new TargetGuard({ lookup });
    expect(await guard.checkUrl('http://rebind.test/')).toEqual({ allowed: true, resolved: true });
    await expect(guard.resolve('rebind.test')).rejects.toThrow('rebind.test resolves to 127.0.0.1, which is in 127.0.0.0/8, loopback');
    expect(calls.get('rebind.test')).toBe(2);
  });

  it('accepts a URL whose name does not resolve now (the send checks again), and never asks DNS about .invalid', async () => {
    const { lookup, calls } = testResolver(RESOLVER_TABLE);
    const guard = new TargetGuard({ lookup });
    expect(await guard.checkUrl('https://nowhere.test/hook')).toEqual({ allowed: true, resolved: false });
    expect(await guard.checkUrl('https://nowhere.invalid/hook')).toEqual({ allowed: true, resolved: false });
    expect(calls.has('nowhere.invalid')).toBe(false);
    await expect(guard.resolve('nowhere.invalid')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('accepts a URL unchecked when the resolver is too slow for the API, without waiting for it', async () => {
    const guard = new TargetGuard({ lookup: () => new Promise(() => {}), apiLookupTimeoutMs: 50 });
    const started = Date.now();
    expect(await guard.checkUrl('https://slow.test/')).toEqual({ allowed: true, resolved: false });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('SSRF guard: the allow-list', () => {
  it('lets 127.0.0.1 through in every spelling, and nothing else', async () => {
    const guard = new TargetGuard({ allow: ['127.0.0.0/8'], lookup: testResolver(RESOLVER_TABLE).lookup });
    for (const host of ['127.0.0.1', '0x7f.1', '2130706433', '127.1', '[::ffff:127.0.0.1]', 'mapped.test']) {
      expect((await guard.resolve(host))[0]?.address, host).toMatch(/^(127\.0\.0\.1|::ffff:7f00:1)$/);
    }
    // localhost is 127.0.0.1 and ::1, and ::1 is not allowed: a name with any refused address is refused.
    await expect(guard.resolve('localhost')).rejects.toBeInstanceOf(HeraldBlockedError);
    await expect(guard.resolve('10.0.0.1')).rejects.toBeInstanceOf(HeraldBlockedError);
    await expect(guard.resolve('metadata.test')).rejects.toBeInstanceOf(HeraldBlockedError);
    const dev = new TargetGuard({ allow: ['127.0.0.0/8', '::1/128'] });
    expect(await dev.resolve('localhost')).toEqual([v4('127.0.0.1'), v6('::1')]);
  });

  it('can open a private network to an operator who names it', async () => {
    const guard = new TargetGuard({ allow: ['10.0.0.0/8', 'fd00::/8'], lookup: testResolver(RESOLVER_TABLE).lookup });
    expect(await guard.resolve('internal.test')).toEqual([v4('10.1.2.3')]);
    expect(await guard.resolve('six.test')).toEqual([v6('fd00::1')]);
    await expect(guard.resolve('10.0.0.1.nip.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(guard.resolve('172.16.0.1')).rejects.toBeInstanceOf(HeraldBlockedError);
  });
});

describe('address ranges', () => {
  it('refuses the first address of every listed range, and lists the ranges the issue names', () => {
    const policy = new AddressPolicy();
    for (const range of [...REFUSED_IPV4, ...REFUSED_IPV6]) {
      const first = parseAddress(range.cidr.split('/')[0] as string);
      expect(first, range.cidr).not.toBeNull();
      expect(policy.check(first!).allowed, range.cidr).toBe(false);
    }
    const cidrs = [...REFUSED_IPV4, ...REFUSED_IPV6].map((r) => r.cidr);
    for (const required of ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16', '224.0.0.0/4', '240.0.0.0/4', '255.255.255.255/32', '::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8']) {
      expect(cidrs).toContain(required);
    }
  });

  it('reads inet_aton spellings as getaddrinfo does, and names as names', () => {
    expect(parseAddress('0x7f.1')?.toString()).toBe('127.0.0.1');
    expect(parseAddress('017700000001')?.toString()).toBe('127.0.0.1');
    expect(parseAddress('[::1]')?.toString()).toBe('::1');
    expect(parseAddress('example.com')).toBeNull();
    expect(parseAddress('cafe')).toBeNull();
    expect(parseAddress('0x7f.1.example.com')).toBeNull();
  });

  it('judges IPv6 forms that embed IPv4 by the IPv4 address, public ones included', () => {
    const policy = new AddressPolicy();
    expect(policy.check(parseAddress('::ffff:8.8.8.8')!).allowed).toBe(true);
    expect(policy.check(parseAddress('64:ff9b::8.8.8.8')!).allowed).toBe(true);
    expect(policy.check(parseAddress('::ffff:192.168.0.1')!).allowed).toBe(false);
    expect(policy.check(parseAddress('8.8.8.8')!).allowed).toBe(true);
    expect(policy.check(parseAddress('2606:4700::1111')!).allowed).toBe(true);
    expect(policy.check(parseAddress('4000::1')!)).toMatchObject({ allowed: false, range: '2000::/3' });
  });
});

describe('SSRF guard in the sender (undici connect step)', () => {
  let server: Server;
  let port = 0;
  const seen: { host: string | undefined; remote: string | undefined }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push({ host: request.headers.host, remote: request.socket.remoteAddress });
      request.resume();
      request.on('end', () => response.end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const post = (sender: ReturnType<typeof createSender>, url: string) =>
    sender.send({ url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 5000 });

  it('connects to the vetted address of a name, resolving it once per connection', async () => {
    // Allowed once (127.0.0.1), then the name turns to an address the allow-list does not name.
    const { lookup, calls } = testResolver({ 'receiver.test': (call) => (call === 1 ? [v4('127.0.0.1')] : [v4('127.0.0.2')]) });
    const guard = new TargetGuard({ allow: ['127.0.0.1/32'], lookup });
    const before = seen.length;
    const sender = createSender({ responseBodyLimitBytes: 1024, connect: guard.connector() });
    try {
      expect((await post(sender, `http://receiver.test:${port}/hook`)).status).toBe(200);
      expect(calls.get('receiver.test')).toBe(1);
      expect(seen.slice(before)).toEqual([{ host: `receiver.test:${port}`, remote: '127.0.0.1' }]);
    } finally {
      await sender.close();
    }
    // A new connection resolves again, and the new answer is checked like the first.
    const fresh = createSender({ responseBodyLimitBytes: 1024, connect: guard.connector() });
    try {
      expect(await post(fresh, `http://receiver.test:${port}/hook`)).toMatchObject({ status: null, error: 'blocked' });
      expect(calls.get('receiver.test')).toBe(2);
      expect(seen.length).toBe(before + 1);
    } finally {
      await fresh.close();
    }
  });

  it('records refused targets as blocked without connecting', async () => {
    const { lookup } = testResolver({ 'loop.test': [v4('127.0.0.1')], 'half.test': [v4('127.0.0.1'), v6('::1')] });
    const guard = new TargetGuard({ lookup });
    const sender = createSender({ responseBodyLimitBytes: 1024, connect: guard.connector() });
    const before = seen.length;
    try {
      for (const url of [
        `http://127.0.0.1:${port}/`,
        `http://0x7f.1:${port}/`,
        `http://[::1]:${port}/`,
        `http://[::ffff:127.0.0.1]:${port}/`,
        `http://localhost:${port}/`,
        `http://loop.test:${port}/`,
        `http://0.0.0.0:${port}/`,
      ]) {
        const result = await post(sender, url);
        expect(result, url).toMatchObject({ status: null, error: 'blocked' });
        expect(result.errorMessage, url).toMatch(/ is (in|the) /);
      }
      expect(seen.length).toBe(before);
    } finally {
      await sender.close();
    }
    // 127.0.0.1 is allowed, ::1 is not: a name with one refused address is refused whole.
    const partial = createSender({ responseBodyLimitBytes: 1024, connect: new TargetGuard({ allow: ['127.0.0.0/8'], lookup }).connector() });
    try {
      expect(await post(partial, `http://half.test:${port}/`)).toMatchObject({ error: 'blocked' });
      expect(seen.length).toBe(before);
    } finally {
      await partial.close();
    }
  });

  it('reports a name that does not resolve as a dns error', async () => {
    const guard = new TargetGuard({ allow: ['127.0.0.0/8'], lookup: testResolver({}).lookup });
    const sender = createSender({ responseBodyLimitBytes: 1024, connect: guard.connector() });
    try {
      expect(await post(sender, `http://gone.test:${port}/`)).toMatchObject({ error: 'dns' });
      expect(await post(sender, `http://gone.invalid:${port}/`)).toMatchObject({ error: 'dns' });
    } finally {
      await sender.close();
    }
  });
});
