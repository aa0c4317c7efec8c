/**
 * `import { verify } from 'herald'`: the receiver library. Only signature checking is exported
 * here; it depends on nothing but `node:crypto`, never on Herald's server (Fastify, the stores).
 * Run Herald itself with the `herald` command.
 */
export { verify, verifyRaw } from './receiver/verify.js';
export type { VerifyOptions, VerifyResult } from './receiver/verify.js';
export { PROFILE_PRESETS, describeScheme, normalizeScheme } from './receiver/schemes.js';
export type { ProfilePreset, ResolvedScheme, SchemeOption, SignatureScheme, SimpleSchemeName } from './receiver/schemes.js';
export type { FetchHeaders, FetchRequestLike, FrameworkRequestLike, NodeRequestLike, RawRequest, WebhookRequest } from './receiver/read-request.js';
export type { HeaderBag } from './domain/signatures/index.js';
