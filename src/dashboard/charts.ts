/**
 * Server-rendered SVG charts. Pure functions of numbers; every label goes
 * through `html`, so the markup stays escaped like the rest of the dashboard.
 */
import type { Attempt } from '../domain/types.js';
import { html, isoTime, type Html } from './html.js';
import type { AttemptPoint } from './queries.js';

const HOUR = 3_600_000;

export interface HourBucket {
  start: number;
  total: number;
  ok: number;
  p50: number | null;
  p95: number | null;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] ?? null;
}

/** 24 hourly buckets ending at `now`'s hour (inclusive). */
export function bucketByHour(points: readonly AttemptPoint[], now: number, hours = 24): HourBucket[] {
  const end = Math.floor(now / HOUR) * HOUR + HOUR;
  const start = end - hours * HOUR;
  const durations: number[][] = Array.from({ length: hours }, () => []);
  const buckets: HourBucket[] = Array.from({ length: hours }, (_, i) => ({ start: start + i * HOUR, total: 0, ok: 0, p50: null, p95: null }));
  for (const p of points) {
    const i = Math.floor((p.at - start) / HOUR);
    const bucket = buckets[i];
    if (!bucket) continue;
    bucket.total++;
    if (p.ok) bucket.ok++;
    durations[i]?.push(p.durationMs);
  }
  buckets.forEach((b, i) => {
    const sorted = (durations[i] ?? []).sort((x, y) => x - y);
    b.p50 = percentile(sorted, 0.5);
    b.p95 = percentile(sorted, 0.95);
  });
  return buckets;
}

const W = 480;
const H = 140;
const PAD = { left: 40, right: 8, top: 10, bottom: 22 };
const plotW = W - PAD.left - PAD.right;
const plotH = H - PAD.top - PAD.bottom;

function hourLabel(ms: number): string {
  return `${String(new Date(ms).getUTCHours()).padStart(2, '0')}h`;
}

function xAxis(buckets: readonly HourBucket[]): Html {
  const step = plotW / buckets.length;
  return html`${buckets.map((b, i) =>
    i % 6 === 0 ? html`<text x="${(PAD.left + i * step).toFixed(1)}" y="${H - 6}" class="axis">${hourLabel(b.start)}</text>` : null,
  )}`;
}

/** Success rate per hour: one bar per hour, height = share of 2xx attempts; hours without attempts show a grey tick. */
export function successRateChart(buckets: readonly HourBucket[]): Html {
  const step = plotW / buckets.length;
  const total = buckets.reduce((n, b) => n + b.total, 0);
  const ok = buckets.reduce((n, b) => n + b.ok, 0);
  const summary = total === 0 ? 'no attempts in the last 24 h' : `${((ok / total) * 100).toFixed(1)} % of ${total} attempts succeeded in the last 24 h`;
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Success rate per hour: ${summary}">
<title>Success rate per hour — ${summary}</title>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${W - PAD.right}" y2="${PAD.top}" class="grid"/>
<line x1="${PAD.left}" y1="${PAD.top + plotH / 2}" x2="${W - PAD.right}" y2="${PAD.top + plotH / 2}" class="grid"/>
<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" class="axis-line"/>
<text x="4" y="${PAD.top + 4}" class="axis">100%</text><text x="10" y="${PAD.top + plotH / 2 + 4}" class="axis">50%</text><text x="16" y="${PAD.top + plotH + 4}" class="axis">0%</text>
${buckets.map((b, i) => {
  const x = (PAD.left + i * step + 1).toFixed(1);
  const width = Math.max(1, step - 2).toFixed(1);
  if (b.total === 0) return html`<rect x="${x}" y="${PAD.top + plotH - 2}" width="${width}" height="2" class="bar-empty"><title>${hourLabel(b.start)}: no attempts</title></rect>`;
  const rate = b.ok / b.total;
  const height = Math.max(2, rate * plotH);
  const cls = rate >= 0.99 ? 'bar-ok' : rate >= 0.5 ? 'bar-warn' : 'bar-bad';
  return html`<rect x="${x}" y="${(PAD.top + plotH - height).toFixed(1)}" width="${width}" height="${height.toFixed(1)}" class="${cls}"><title>${hourLabel(b.start)}: ${b.ok}/${b.total} succeeded</title></rect>`;
})}
${xAxis(buckets)}
</svg>`;
}

/** Latency per hour: p50 and p95 lines (ms). */
export function latencyChart(buckets: readonly HourBucket[]): Html {
  const step = plotW / buckets.length;
  const max = Math.max(1, ...buckets.map((b) => b.p95 ?? 0));
  const y = (ms: number) => (PAD.top + plotH - (ms / max) * plotH).toFixed(1);
  const line = (pick: (b: HourBucket) => number | null) =>
    buckets
      .map((b, i) => {
        const v = pick(b);
        return v === null ? null : `${(PAD.left + i * step + step / 2).toFixed(1)},${y(v)}`;
      })
      .filter((p): p is string => p !== null)
      .join(' ');
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Latency per hour, p50 and p95, peak ${max} ms">
<title>Latency per hour (p50 solid, p95 dashed), peak ${max} ms</title>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${W - PAD.right}" y2="${PAD.top}" class="grid"/>
<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" class="axis-line"/>
<text x="2" y="${PAD.top + 4}" class="axis">${max}ms</text><text x="20" y="${PAD.top + plotH + 4}" class="axis">0</text>
<polyline points="${line((b) => b.p95)}" class="line-p95"/>
<polyline points="${line((b) => b.p50)}" class="line-p50"/>
${buckets.map((b, i) =>
  b.p50 === null
    ? null
    : html`<circle cx="${(PAD.left + i * step + step / 2).toFixed(1)}" cy="${y(b.p50)}" r="2.5" class="dot-p50"><title>${hourLabel(b.start)}: p50 ${b.p50} ms, p95 ${b.p95 ?? 0} ms</title></circle>`,
)}
${xAxis(buckets)}
</svg>`;
}

/** A delivery's attempts on a time line, with the next scheduled attempt when there is one. */
export function attemptTimeline(attempts: readonly Attempt[], nextAttemptAt: number | null): Html {
  if (attempts.length === 0 && nextAttemptAt === null) return html`<p class="muted">No attempt yet.</p>`;
  const times = [...attempts.map((a) => a.at), ...(nextAttemptAt !== null ? [nextAttemptAt] : [])];
  const first = Math.min(...times);
  const last = Math.max(...times);
  const span = Math.max(1, last - first);
  const width = 640;
  const left = 20;
  const usable = width - 2 * left;
  // Positions follow time, but attempts seconds apart are pushed apart so their labels stay readable.
  const positions = new Map<number, number>();
  let previous = -Infinity;
  for (const t of [...times].sort((a, b) => a - b)) {
    const at = Math.min(width - left, Math.max(left + ((t - first) / span) * usable, previous + 36));
    positions.set(t, at);
    previous = at;
  }
  const x = (t: number) => (positions.get(t) ?? left).toFixed(1);
  return html`<svg class="chart timeline" viewBox="0 0 ${width} 70" width="${width}" height="70" role="img" aria-label="Attempt timeline: ${attempts.length} attempts">
<title>Attempt timeline</title>
<line x1="${left}" y1="30" x2="${width - left}" y2="30" class="axis-line"/>
${attempts.map((a) => {
  const ok = a.error === null && a.responseStatus !== null && a.responseStatus >= 200 && a.responseStatus < 300;
  const label = a.responseStatus !== null ? String(a.responseStatus) : (a.error ?? '?');
  return html`<g><circle cx="${x(a.at)}" cy="30" r="7" class="${ok ? 'dot-ok' : 'dot-bad'}"><title>#${a.attemptNumber} at ${isoTime(a.at)}: ${label} in ${a.durationMs} ms</title></circle>
<text x="${x(a.at)}" y="15" class="axis" text-anchor="middle">#${a.attemptNumber}</text>
<text x="${x(a.at)}" y="55" class="axis" text-anchor="middle">${label}</text></g>`;
})}
${nextAttemptAt !== null ? html`<circle cx="${x(nextAttemptAt)}" cy="30" r="6" class="dot-next"><title>next attempt at ${isoTime(nextAttemptAt)}</title></circle><text x="${x(nextAttemptAt)}" y="55" class="axis" text-anchor="middle">next</text>` : null}
</svg>`;
}
