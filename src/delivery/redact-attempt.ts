/**
 * What the attempt log keeps of a request. Signing secrets never go into it:
 * schemes that send the secret itself (`header-secret`, e.g. Qovery's
 * `Qovery-Secret`) and envelopes that put `{{webhook.secret}}` in the body
 * (Convocore's `workspaceSecret`) have it replaced with `[redacted]`.
 * Signatures stay: they do not reveal the secret.
 */
export const REDACTED = '[redacted]';

function redact(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
  return out;
}

export function redactSecrets(
  request: { headers: Record<string, string>; body: string },
  secrets: readonly (string | null)[],
): { headers: Record<string, string>; body: string } {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === null || secret === '') continue;
    forms.add(secret);
    // As it appears inside a JSON string.
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return request;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name] = redact(value, ordered);
  return { headers, body: redact(request.body, ordered) };
}
