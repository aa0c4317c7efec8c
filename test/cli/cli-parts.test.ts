/**
 * The CLI's building blocks without a process: the progress display (drawn only on a
 * terminal), option parsers, output mode, status-to-exit-code mapping, and how listen finds
 * the delivery id and type in each format.
 */
import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeForStatus } from '../../src/cli/exit-codes.js';
import { formatTable, wantsJson } from '../../src/cli/output.js';
import { keyLists, keyValues, pointInTime } from '../../src/cli/parse.js';
import { Progress, type ProgressStream } from '../../src/cli/progress.js';
import { resolveConnection } from '../../src/cli/client.js';
import { summarize } from '../../src/cli/commands/listen.js';
import { listenHint } from '../../src/cli/commands/webhooks.js';
import { parseCaptured } from '../../src/cli/commands/verify.js';
import { secretPathInEnvelope } from '../../src/cli/verification.js';

function fakeStream(isTTY: boolean): ProgressStream & { output: string } {
  return {
    isTTY,
    columns: 120,
    output: '',
    write(text: string) {
      this.output += text;
      return true;
    },
  };
}

describe('Progress', () => {
  it('draws a bar with count, percent and rate on a terminal, at most every intervalMs', () => {
    let now = 0;
    const stream = fakeStream(true);
    const progress = new Progress('sending 10 events', 10, { stream, intervalMs: 100, now: () => now });
    now = 1000;
    progress.tick(5);
    expect(stream.output).toBe('\r\x1b[Ksending 10 events  [############------------]  5/10  50%  5.0/s');
    progress.tick(1); // within 100 ms: not redrawn
    expect(stream.output.match(/\r/g)).toHaveLength(1);
    now = 2000;
    progress.tick(4, 1);
    expect(stream.output.endsWith('10/10  100%  5.0/s  1 failed')).toBe(true);
    progress.finish();
    expect(stream.output.endsWith('\n')).toBe(true);
  });

  it('without a total it is a counter; finish({clear}) removes the line', () => {
    let now = 0;
    const stream = fakeStream(true);
    const progress = new Progress('recovering', null, { stream, now: () => now });
    now = 500;
    progress.set(42);
    expect(progress.render()).toBe('recovering  42  84/s');
    progress.finish({ clear: true });
    expect(stream.output.endsWith('\r\x1b[K')).toBe(true);
  });

  it('prints nothing when the stream is not a terminal', () => {
    const stream = fakeStream(false);
    const progress = new Progress('sending', 3, { stream });
    progress.tick(3);
    progress.finish();
    expect(stream.output).toBe('');
    expect(progress.done).toBe(3);
  });
});

describe('parsers', () => {
  it('pointInTime: ISO, now, and durations ago', () => {
    const now = Date.parse('2024-06-10T16:00:00.000Z');
    expect(pointInTime('2024-06-01T00:00:00Z', now)).toBe('2024-06-01T00:00:00.000Z');
    expect(pointInTime('now', now)).toBe('2024-06-10T16:00:00.000Z');
    expect(pointInTime('30m', now)).toBe('2024-06-10T15:30:00.000Z');
    expect(pointInTime('2h', now)).toBe('2024-06-10T14:00:00.000Z');
    expect(pointInTime('7d', now)).toBe('2024-06-03T16:00:00.000Z');
    expect(() => pointInTime('yesterday', now)).toThrow(/ISO time/);
    expect(() => pointInTime('12', now)).toThrow();
  });

  it('key=value pairs and filter lists', () => {
    expect(keyValues(['a=1', 'b=x=y'], '--attr')).toEqual({ a: '1', b: 'x=y' });
    expect(() => keyValues(['novalue'], '--attr')).toThrow(/expected key=value/);
    expect(keyLists(['projectName=front*,api', 'projectName=web', 'env=PRODUCTION'], '--filter')).toEqual({ projectName: ['front*', 'api', 'web'], env: ['PRODUCTION'] });
  });
});

describe('output and exit codes', () => {
  it('JSON unless stdout is a terminal; flags override', () => {
    expect(wantsJson({}, { isTTY: false })).toBe(true);
    expect(wantsJson({}, { isTTY: true })).toBe(false);
    expect(wantsJson({ json: true }, { isTTY: true })).toBe(true);
    expect(wantsJson({ json: false }, { isTTY: false })).toBe(false);
  });

  it('tables align columns and cut long cells', () => {
    const table = formatTable(['ID', 'URL'], [['whk_1', 'http://a'], ['whk_22', `http://${'x'.repeat(80)}`]], 20);
    expect(table.split('\n')).toEqual(['ID      URL', 'whk_1   http://a', `whk_22  http://${'x'.repeat(12)}…`]);
  });

  it('maps HTTP statuses to exit codes', () => {
    expect(exitCodeForStatus(404)).toBe(EXIT.notFound);
    expect(exitCodeForStatus(401)).toBe(EXIT.auth);
    expect(exitCodeForStatus(403)).toBe(EXIT.auth);
    for (const status of [400, 409, 413, 415, 422]) expect(exitCodeForStatus(status)).toBe(EXIT.invalidInput);
    expect(exitCodeForStatus(500)).toBe(EXIT.server);
    expect(exitCodeForStatus(503)).toBe(EXIT.server);
    expect(exitCodeForStatus(429)).toBe(EXIT.usage);
  });

  it('connection: flag, then env, then the admin-token file; default URL', () => {
    expect(resolveConnection({}, {}, '/nonexistent')).toMatchObject({ token: null, tokenSource: null });
    expect(resolveConnection({}, {}, '/nonexistent').url.toString()).toBe('http://127.0.0.1:8080/');
    expect(resolveConnection({}, { HERALD_TOKEN: 'env', HERALD_URL: 'http://127.0.0.1:9000' }, '/nonexistent')).toMatchObject({ token: 'env', tokenSource: 'HERALD_TOKEN' });
    expect(resolveConnection({ token: 'flag' }, { HERALD_TOKEN: 'env' }, '/nonexistent')).toMatchObject({ token: 'flag', tokenSource: '--token' });
    expect(() => resolveConnection({ url: 'ftp://x' }, {}, '/')).toThrow(/http/);
  });
});

describe('listen and verify helpers', () => {
  it('finds type and delivery id in every format', () => {
    expect(summarize({ 'webhook-id': 'dlv_1' }, '{"type":"invoice.paid","data":{}}')).toMatchObject({ type: 'invoice.paid', deliveryId: 'dlv_1' });
    expect(summarize({ 'svix-id': 'dlv_2' }, '{"type":"project.created"}')).toMatchObject({ deliveryId: 'dlv_2' });
    expect(summarize({}, '{"type":"deployment.created","id":"dlv_3"}')).toMatchObject({ type: 'deployment.created', deliveryId: 'dlv_3' });
    expect(summarize({}, '{"event_type":"DEPLOYMENT_STARTED","payload_id":"evt_1"}')).toMatchObject({ type: 'DEPLOYMENT_STARTED', deliveryId: null });
    expect(summarize({}, 'not json')).toEqual({ type: null, deliveryId: null, payload: undefined });
  });

  it('finds where an envelope puts the webhook secret', () => {
    expect(secretPathInEnvelope({ type: '{{event.type}}', payload: { '...': '{{event.data}}', workspaceSecret: '{{ webhook.secret }}' } })).toBe('payload.workspaceSecret');
    expect(secretPathInEnvelope({ type: '{{event.type}}', data: '{{event.data}}' })).toBeNull();
    expect(secretPathInEnvelope({ note: 'secret is {{webhook.secret}}' })).toBeNull();
  });

  it('reads captured requests, attempts and deliveries', () => {
    expect(parseCaptured({ headers: { a: 'b' }, body: 'x' })).toEqual({ headers: { a: 'b' }, body: Buffer.from('x'), at: null });
    const attempt = { attemptNumber: 1, requestHeaders: { a: '1' }, requestBody: 'one', at: '2024-06-10T16:00:00.000Z' };
    expect(parseCaptured(attempt)).toMatchObject({ body: Buffer.from('one'), at: Date.parse(attempt.at) });
    const delivery = { attempts: [attempt, { ...attempt, attemptNumber: 2, requestBody: 'two' }] };
    expect(parseCaptured(delivery).body.toString()).toBe('two');
    expect(parseCaptured(delivery, 1).body.toString()).toBe('one');
    expect(() => parseCaptured({ attempts: [] })).toThrow(/no attempts/);
    expect(() => parseCaptured({ headers: { a: 1 }, body: 'x' })).toThrow(/headers/);
  });

  it('suggests herald listen for a webhook on this machine', () => {
    expect(listenHint('http://127.0.0.1:8787/hook', 'whsec_x')).toBe('herald listen --secret whsec_x');
    expect(listenHint('http://localhost:3000/hook', 'whsec_x')).toBe('herald listen --port 3000 --secret whsec_x');
    expect(listenHint('https://example.com/hook', 'whsec_x')).toBeNull();
  });
});
