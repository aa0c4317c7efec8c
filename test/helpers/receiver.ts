/**
 * A real HTTP receiver on 127.0.0.1 for tests: records every request with its
 * raw body, and answers as the test tells it (status, delay, reset, redirect).
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Behaviour =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'delay'; ms: number; status?: number }
  | { kind: 'reset' }
  | { kind: 'hang' };

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests being answered right now (for concurrency checks). */
  active: number;
  maxActive: number;
  /** Sets how the next requests are answered: each call to the function gets the request's index. */
  respond(behaviour: Behaviour | ((index: number, request: ReceivedRequest) => Behaviour)): void;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  let decide: (index: number, request: ReceivedRequest) => Behaviour = () => ({ kind: 'status', status: 200, body: 'ok' });
  const sockets = new Set<Socket>();
  const waiters: (() => void)[] = [];
  const receiver: Receiver = {
    url: '',
    port: 0,
    requests: [],
    active: 0,
    maxActive: 0,
    respond(behaviour) {
      decide = typeof behaviour === 'function' ? behaviour : () => behaviour;
    },
    async waitFor(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (receiver.requests.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`receiver got ${receiver.requests.length} requests, expected ${count} within ${timeoutMs} ms`);
        }
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return receiver.requests;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const finish = (res: ServerResponse, status: number, body = '', headers: Record<string, string> = {}): void => {
    receiver.active -= 1;
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      const index = receiver.requests.length;
      receiver.requests.push(request);
      receiver.active += 1;
      receiver.maxActive = Math.max(receiver.maxActive, receiver.active);
      for (const wake of waiters.splice(0)) wake();
      const behaviour = decide(index, request);
      switch (behaviour.kind) {
        case 'status':
          finish(res, behaviour.status, behaviour.body ?? '', behaviour.headers);
          break;
        case 'delay':
          setTimeout(() => {
            if (!res.destroyed) finish(res, behaviour.status ?? 200, 'late');
          }, behaviour.ms);
          break;
        case 'reset':
          receiver.active -= 1;
          req.socket.destroy();
          break;
        case 'hang':
          res.on('close', () => (receiver.active -= 1));
          break;
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  receiver.port = address.port;
  receiver.url = `http://127.0.0.1:${address.port}`;
  return receiver;
}

/** A port on which nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
