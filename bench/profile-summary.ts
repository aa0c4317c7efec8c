/**
 * `node --import tsx bench/profile-summary.ts <file.cpuprofile>`: where a Herald
 * process spent its CPU, by self time, grouped into the parts of a delivery
 * (store, render, sign, send, API) and by function. See bench/README.md.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const CATEGORIES: [string, RegExp][] = [
  ['store: SQLite (better-sqlite3)', /better-sqlite3|sqlite/i],
  ['store: PostgreSQL (pg)', /node_modules\/pg/],
  ['store: query building (Kysely)', /kysely/],
  ['sign (crypto)', /signatures|node:crypto|internal\/crypto/],
  ['send (undici)', /undici/],
  ['API (Fastify, validation)', /fastify|ajv|find-my-way|light-my-request|avvio|typebox/],
  ['logging (pino)', /pino/],
  ['Herald: render', /render-request|envelope/],
  ['Herald: ingest', /src\/ingest|dist\/ingest/],
  ['Herald: delivery loop', /src\/delivery|dist\/delivery/],
  ['Herald: store code', /src\/store|dist\/store/],
  ['Herald: other', /\/dist\/|\/src\//],
  ['Node: HTTP/net', /node:_http|node:net|node:internal\/(http|net|stream|streams)/],
];

const file = process.argv[2];
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile>');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
let total = 0;
for (const v of self.values()) total += v;

const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** Native frames (no url: writev, Hmac, a SQLite step) count for the nearest caller that has one. */
function categoryOf(id: number): string | null {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const url = byId.get(at)!.callFrame.url;
    if (!url) continue;
    for (const [label, pattern] of CATEGORIES) if (pattern.test(url)) return label;
  }
  return null;
}

const categories = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, us] of self) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/');
  let category = name === '(garbage collector)' ? 'GC' : name === '(idle)' || name === '(program)' ? `V8 ${name}` : 'native / other';
  if (category === 'native / other') category = categoryOf(id) ?? category;
  categories.set(category, (categories.get(category) ?? 0) + us);
  const key = `${name} ${where}:${lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
}

const pct = (us: number) => `${((us / total) * 100).toFixed(1)} %`;
console.log(`total ${(total / 1e6).toFixed(2)} s of samples\n\nby part:`);
for (const [k, v] of [...categories].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(v).padStart(7)}  ${k}`);
console.log('\ntop functions (self time):');
for (const [k, v] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${pct(v).padStart(7)}  ${k}`);
