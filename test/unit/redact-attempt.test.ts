import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets } from '../../src/delivery/redact-attempt.js';

describe('redactSecrets: the attempt log never keeps a signing secret', () => {
  it('replaces a secret sent as a header (header-secret schemes such as Qovery-Secret)', () => {
    const logged = redactSecrets({ headers: { 'qovery-secret': 'my-target-secret', 'x-team': 'a' }, body: '{}' }, ['my-target-secret', null]);
    expect(logged.headers).toEqual({ 'qovery-secret': REDACTED, 'x-team': 'a' });
  });

  it('replaces a secret in the body, also as JSON escapes it, and the previous secret during a rotation', () => {
    const current = 'se"cr\\et-current';
    const body = JSON.stringify({ type: 't', payload: { workspaceSecret: current, other: 'old-secret-value' } });
    const logged = redactSecrets({ headers: {}, body }, [current, 'old-secret-value']);
    expect(logged.body).toBe(JSON.stringify({ type: 't', payload: { workspaceSecret: REDACTED, other: REDACTED } }));
  });

  it('keeps signatures and everything else as sent', () => {
    const request = { headers: { 'webhook-signature': 'v1,abc=', 'content-type': 'application/json' }, body: '{"a":1}' };
    expect(redactSecrets(request, ['whsec_zzzz', null])).toEqual(request);
  });
});
