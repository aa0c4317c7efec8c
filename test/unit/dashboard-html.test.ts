import { describe, expect, it } from 'vitest';
import { attemptTimeline, bucketByHour, successRateChart } from '../../src/dashboard/charts.js';
import { html, prettyBody } from '../../src/dashboard/html.js';
import { schemaFields } from '../../src/dashboard/pages.js';

describe('dashboard html', () => {
  it('escapes every interpolated value, but not nested templates', () => {
    const evil = `<script>alert("x")</script>' & \``;
    const out = html`<p title="${evil}">${evil}${html`<b>${evil}</b>`}${[evil, 1]}${null}${undefined}${false}</p>`.value;
    expect(out).not.toContain('<script>');
    expect(out).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &amp; &#96;');
    expect(out).toContain('<b>&lt;script&gt;');
    expect(out.endsWith('1</p>')).toBe(true);
  });

  it('pretty-prints JSON bodies and leaves others alone', () => {
    expect(prettyBody('{"a":[1]}')).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(prettyBody('<html>')).toBe('<html>');
    expect(prettyBody(null)).toBe('');
  });

  it('buckets attempts per hour with success counts and latency percentiles', () => {
    const now = Date.UTC(2025, 0, 1, 12, 30);
    const buckets = bucketByHour(
      [
        { at: now - 1000, durationMs: 10, ok: true },
        { at: now - 2000, durationMs: 30, ok: false },
        { at: now - 3 * 3_600_000, durationMs: 5, ok: true },
        { at: now - 48 * 3_600_000, durationMs: 5, ok: true },
      ],
      now,
    );
    expect(buckets).toHaveLength(24);
    expect(buckets[23]).toMatchObject({ total: 2, ok: 1, p50: 10, p95: 30 });
    expect(buckets[20]).toMatchObject({ total: 1, ok: 1 });
    expect(buckets.reduce((n, b) => n + b.total, 0)).toBe(3);
    expect(successRateChart(buckets).value).toContain('66.7 % of 3 attempts');
  });

  it('draws a timeline with one mark per attempt and the next one', () => {
    const attempt = { id: 'att_1', deliveryId: 'dlv_1', attemptNumber: 1, at: 1000, durationMs: 5, requestUrl: 'http://x', requestHeaders: {}, requestBody: '', responseStatus: 500, responseHeaders: {}, responseBody: '', error: 'status' as const, errorMessage: null };
    const svg = attemptTimeline([attempt, { ...attempt, id: 'att_2', attemptNumber: 2, at: 1500, responseStatus: 200, error: null }], 60_000).value;
    expect(svg.match(/<circle/g)).toHaveLength(3);
    expect(svg).toContain('dot-bad');
    expect(svg).toContain('dot-ok');
  });

  it('flattens a JSON Schema into field rows', () => {
    const rows = schemaFields({
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string', description: 'The id' }, user: { type: 'object', properties: { name: { type: 'string' } } }, tags: { type: 'array', items: { type: 'object', properties: { k: { enum: ['a', 'b'] } } } } },
    });
    expect(rows.map((r) => r.path)).toEqual(['id', 'user', 'user.name', 'tags', 'tags[].k']);
    expect(rows[0]).toMatchObject({ required: true, description: 'The id', type: 'string' });
    expect(rows[4]!.type).toContain('"a", "b"');
  });
});
