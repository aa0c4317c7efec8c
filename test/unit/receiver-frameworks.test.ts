/**
 * `verify` with the request objects of each framework the README shows: Node http (stream read
 * by verify), Fastify (buffer body parser), Express (`express.raw()` leaves a Buffer in req.body:
 * the same shape is built here, Express itself is not a dependency), and the Fetch `Request`.
 * Each receiver gets a request signed by Herald's own signing code over real HTTP on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { verify, verifyRaw } from '../../src/index.js';
import { generateWebhookSecret } from '../../src/domain/secrets.js';
import { signRequest } from '../../src/domain/signatures/index.js';

const secret = generateWebhookSecret();
const body = JSON.stringify({ type: 'invoice.paid', timestamp: new Date().toISOString(), data: { invoiceId: 'in_42', note: 'ünïcödé ✓' } });

function signed(payload = body): Record<string, string> {
  return {
    'content-type': 'application/json',
    ...signRequest({ scheme: 'standard-webhooks' }, { id: 'dlv_frameworks', timestampS: Math.floor(Date.now() / 1000), body: payload, secrets: [secret] }),
  };
}

async function post(url: string, headers: Record<string, string>, payload = body): Promise<{ status: number; text: string }> {
  const response = await request(url, { method: 'POST', headers, body: payload });
  return { status: response.statusCode, text: await response.body.text() };
}

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

describe('Node http', () => {
  it('verify reads the stream; result.body and result.payload are the request', async () => {
    const seen: unknown[] = [];
    const url = await listen(
      createServer(async (req, res) => {
        const result = await verify(req, { secret });
        if (!result.ok) return void res.writeHead(401).end(result.reason);
        seen.push(result.payload);
        res.writeHead(204).end();
      }),
    );
    expect((await post(url, signed())).status).toBe(204);
    expect(seen).toEqual([JSON.parse(body)]);
    const tampered = body.replace('in_42', 'in_43');
    expect(await post(url, signed(), tampered)).toEqual({ status: 401, text: 'no matching signature' });
  });

  it('refuses a body larger than maxBodyBytes, and the connection can still answer', async () => {
    const url = await listen(
      createServer(async (req, res) => {
        const result = await verify(req, { secret, maxBodyBytes: 64 });
        res.writeHead(result.ok ? 200 : 413).end(result.ok ? '' : result.reason);
      }),
    );
    expect(await post(url, signed())).toEqual({ status: 413, text: 'request body is larger than 64 bytes' });
  });

  it('a stream that was already read is a setup error (TypeError with the fix)', async () => {
    const stream = Object.assign(Readable.from([Buffer.from(body)]), { headers: signed() });
    for await (const _chunk of stream) void _chunk;
    await expect(verify(stream, { secret })).rejects.toThrow(/already read.*express\.raw/);
  });
});

describe('Fastify', () => {
  it('with a buffer body parser for JSON', async () => {
    const app = Fastify();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, raw, done) => done(null, raw));
    app.post('/hook', async (req, reply) => {
      const result = await verify(req, { secret });
      if (!result.ok) return reply.code(401).send(result.reason);
      return reply.send({ got: (result.payload as { type: string }).type });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/hook`;
    expect(await post(url, signed())).toEqual({ status: 200, text: '{"got":"invoice.paid"}' });
    expect((await post(url, { ...signed(), 'webhook-signature': 'v1,AAAA' })).status).toBe(401);
  });

  it('with the default JSON parser the body is an object: TypeError telling how to fix it', async () => {
    const app = Fastify();
    app.post('/hook', async (req, reply) => {
      try {
        await verify(req, { secret });
        return reply.send('verified?!');
      } catch (error) {
        return reply.code(500).send((error as Error).message);
      }
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/hook`;
    const answer = await post(url, signed());
    expect(answer.status).toBe(500);
    expect(answer.text).toMatch(/already parsed.*addContentTypeParser/);
  });
});

describe('Express (req.body is a Buffer after express.raw)', () => {
  it('verifies the request object as Express hands it over', async () => {
    // What express.raw({type: 'application/json'}) leaves: the IncomingMessage, read, with body = Buffer.
    const url = await listen(
      createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', async () => {
          const expressReq = Object.assign(req, { body: Buffer.concat(chunks) });
          const result = await verify(expressReq, { secret });
          res.writeHead(result.ok ? 200 : 401).end(result.ok ? 'ok' : result.reason);
        });
      }),
    );
    expect(await post(url, signed())).toEqual({ status: 200, text: 'ok' });
    expect((await post(url, signed(), `${body} `)).status).toBe(401);
  });
});

describe('Fetch Request', () => {
  it('verifies from a clone, so request.json() still works afterwards', async () => {
    const req = new Request('http://127.0.0.1/hook', { method: 'POST', headers: signed(), body });
    const result = await verify(req, { secret });
    expect(result).toMatchObject({ ok: true, id: 'dlv_frameworks' });
    expect(await req.json()).toEqual(JSON.parse(body));
  });

  it('refuses a tampered body and a wrong secret; a used body is a TypeError', async () => {
    const tampered = new Request('http://127.0.0.1/hook', { method: 'POST', headers: signed(), body: body.replace('42', '43') });
    expect(await verify(tampered, { secret })).toMatchObject({ ok: false, reason: 'no matching signature' });
    const wrong = new Request('http://127.0.0.1/hook', { method: 'POST', headers: signed(), body });
    expect(await verify(wrong, { secret: generateWebhookSecret() })).toMatchObject({ ok: false });
    const used = new Request('http://127.0.0.1/hook', { method: 'POST', headers: signed(), body });
    await used.text();
    await expect(verify(used, { secret })).rejects.toThrow(/already read/);
  });

  it('a Fetch Headers object works with verifyRaw too', () => {
    expect(verifyRaw({ headers: new Headers(signed()), body }, { secret }).ok).toBe(true);
  });
});

describe('the package entry stays light', () => {
  it('src/index.ts imports only the receiver, domain signature code and node: builtins', async () => {
    const { readFileSync } = await import('node:fs');
    const { dirname, join, resolve } = await import('node:path');
    const root = resolve(import.meta.dirname, '../../src');
    const seen = new Set<string>();
    const external = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)) {
        const spec = match[1] as string;
        if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
        else external.add(spec);
      }
    };
    visit(join(root, 'index.ts'));
    expect([...external].every((spec) => spec.startsWith('node:'))).toBe(true);
    const local = [...seen].map((f) => f.slice(root.length + 1)).sort();
    expect(local.every((f) => f === 'index.ts' || f.startsWith('receiver/') || f.startsWith('domain/'))).toBe(true);
  });
});
