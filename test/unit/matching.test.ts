import { describe, expect, it } from 'vitest';
import {
  isValidSubscriptionPattern,
  matchesAttributePattern,
  matchesEventType,
  matchesFilters,
  webhookMatches,
} from '../../src/domain/matching.js';

const type = (name: string, deprecated = false) => ({ name, deprecated });

describe('matchesEventType', () => {
  it('matches exact type names', () => {
    expect(matchesEventType(['deployment.created'], type('deployment.created'))).toBe(true);
    expect(matchesEventType(['deployment.created'], type('deployment.ready'))).toBe(false);
  });

  it('matches group.* wildcards against any type in that group', () => {
    expect(matchesEventType(['deployment.*'], type('deployment.created'))).toBe(true);
    expect(matchesEventType(['deployment.*'], type('deployment.check.rerequested'))).toBe(true);
    expect(matchesEventType(['deployment.*'], type('project.created'))).toBe(false);
  });

  it('does not let group.* match the bare group name or a longer word', () => {
    expect(matchesEventType(['deployment.*'], type('deployment'))).toBe(false);
    expect(matchesEventType(['deployment.*'], type('deploymentx.created'))).toBe(false);
  });

  it('matches nested group wildcards', () => {
    expect(matchesEventType(['organization.project.*'], type('organization.project.created'))).toBe(true);
    expect(matchesEventType(['organization.project.*'], type('organization.member.added'))).toBe(false);
  });

  it('matches * against every type', () => {
    expect(matchesEventType(['*'], type('anything.at.all'))).toBe(true);
  });

  it('treats an empty subscription as every non-deprecated type', () => {
    expect(matchesEventType([], type('project.created'))).toBe(true);
    expect(matchesEventType([], type('deployment', true))).toBe(false);
  });

  it('delivers a deprecated type only to webhooks that name it exactly', () => {
    expect(matchesEventType(['deployment'], type('deployment', true))).toBe(true);
    expect(matchesEventType(['*'], type('deployment', true))).toBe(false);
    expect(matchesEventType(['legacy.*'], type('legacy.thing', true))).toBe(false);
    expect(matchesEventType(['legacy.*', 'legacy.thing'], type('legacy.thing', true))).toBe(true);
  });

  it('matches when any one of several patterns matches', () => {
    expect(matchesEventType(['project.*', 'deployment.created'], type('deployment.created'))).toBe(true);
  });
});

describe('isValidSubscriptionPattern', () => {
  it('accepts *, group wildcards and plain names', () => {
    for (const p of ['*', 'deployment.*', 'organization.project.*', 'deployment', 'deployment.created', 'a-b_c.d']) {
      expect(isValidSubscriptionPattern(p), p).toBe(true);
    }
  });

  it('rejects empty patterns, misplaced stars, empty segments and whitespace', () => {
    for (const p of ['', '.*', 'a*', '*.created', 'a.*.b', 'a.**', 'a..b', '.a', 'a.', 'a b', 'a\tb', 'a\u0000']) {
      expect(isValidSubscriptionPattern(p), JSON.stringify(p)).toBe(false);
    }
  });
});

describe('matchesAttributePattern', () => {
  it('matches * against any run of characters, including an empty one', () => {
    expect(matchesAttributePattern('web-*', 'web-')).toBe(true);
    expect(matchesAttributePattern('web-*', 'web-frontend')).toBe(true);
    expect(matchesAttributePattern('*-api', 'billing-api')).toBe(true);
    expect(matchesAttributePattern('a*b*c', 'aXXbYYc')).toBe(true);
    expect(matchesAttributePattern('a*b*c', 'aXXcYYb')).toBe(false);
  });

  it('compares case-insensitively', () => {
    expect(matchesAttributePattern('Production', 'production')).toBe(true);
    expect(matchesAttributePattern('WEB-*', 'web-App')).toBe(true);
  });

  it('anchors the whole value', () => {
    expect(matchesAttributePattern('prod', 'production')).toBe(false);
    expect(matchesAttributePattern('prod', 'preprod')).toBe(false);
  });

  it('treats regular expression metacharacters literally', () => {
    expect(matchesAttributePattern('a.b', 'axb')).toBe(false);
    expect(matchesAttributePattern('a.b', 'a.b')).toBe(true);
    expect(matchesAttributePattern('(x)+[y]?$^|{2}\\/-', '(x)+[y]?$^|{2}\\/-')).toBe(true);
    expect(matchesAttributePattern('(x)+', 'xx')).toBe(false);
  });

  it('lets * span newlines', () => {
    expect(matchesAttributePattern('a*b', 'a\nb')).toBe(true);
  });

  it('gives the same answer when a cached pattern is reused', () => {
    expect(matchesAttributePattern('cache-*', 'cache-1')).toBe(true);
    expect(matchesAttributePattern('cache-*', 'other')).toBe(false);
    expect(matchesAttributePattern('cache-*', 'cache-2')).toBe(true);
  });
});

describe('matchesFilters', () => {
  const attributes = { projectName: 'web-frontend', environmentType: 'production', projectId: 'prj_1' };

  it('matches when there are no filters', () => {
    expect(matchesFilters({}, attributes)).toBe(true);
  });

  it('requires every filtered key to match (AND across keys)', () => {
    expect(matchesFilters({ projectName: ['web-*'], environmentType: ['production'] }, attributes)).toBe(true);
    expect(matchesFilters({ projectName: ['web-*'], environmentType: ['preview'] }, attributes)).toBe(false);
  });

  it('accepts any pattern of one key (OR within a key)', () => {
    expect(matchesFilters({ environmentType: ['preview', 'production'] }, attributes)).toBe(true);
  });

  it('does not match an event that lacks a filtered attribute', () => {
    expect(matchesFilters({ region: ['*'] }, attributes)).toBe(false);
  });

  it('ignores a key with an empty pattern list', () => {
    expect(matchesFilters({ region: [], projectId: ['PRJ_1'] }, attributes)).toBe(true);
  });

  it('compares attribute names exactly', () => {
    expect(matchesFilters({ projectname: ['*'] }, attributes)).toBe(false);
  });

  it('does not treat inherited object members as attributes', () => {
    expect(matchesFilters({ toString: ['*'] }, attributes)).toBe(false);
    expect(matchesFilters({ constructor: ['*'] }, {})).toBe(false);
  });
});

describe('webhookMatches', () => {
  const event = { type: 'deployment.created', attributes: { projectName: 'api' } };
  const eventType = type('deployment.created');

  it('needs both the event type and the filters to match', () => {
    expect(webhookMatches({ events: ['deployment.*'], filters: { projectName: ['api'] } }, event, eventType)).toBe(true);
    expect(webhookMatches({ events: ['project.*'], filters: { projectName: ['api'] } }, event, eventType)).toBe(false);
    expect(webhookMatches({ events: ['deployment.*'], filters: { projectName: ['web'] } }, event, eventType)).toBe(false);
  });

  it('matches every non-deprecated type with no subscription and no filters', () => {
    expect(webhookMatches({ events: [], filters: {} }, event, eventType)).toBe(true);
  });
});
