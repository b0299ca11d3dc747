/**
 * The Event builder (functions/api/event.ts): names by what an event says, series within ten minutes, a fresh event
 * after, an hour's life; and the events.k8s.io read side's pure parts (http/events.ts): the Table kubectl prints,
 * its ages, field selectors and the Accept header that asks for a Table.
 */
import { describe, expect, it } from 'vitest';
import {
  EVENT_LIFETIME_SECONDS,
  EVENT_SERIES_WINDOW_SECONDS,
  EventReason,
  eventExpiresAt,
  eventName,
  isExpired,
  microTime,
  nextEvent,
  type Event,
  type EventInput,
} from '../../../functions/api/event.js';
import { eventTable, parseEventFieldSelector } from '../../../functions/api/http/events.js';

const T0 = new Date('2026-03-01T12:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const input = (over: Partial<EventInput> = {}): EventInput => ({
  regarding: { kind: 'MachineSet', namespace: 'team-a', name: 'c1-md-abc', uid: 'ms-uid', apiVersion: 'clusterless.dev/v1alpha1' },
  type: 'Normal',
  reason: EventReason.SuccessfulCreate,
  action: 'Create',
  note: 'Created Machine "c1-md-abc-x1"',
  workflow: 'reconcile-cluster',
  ...over,
});

/** What the store adds to an object it creates. */
const stored = (e: Event): Event => ({ ...e, metadata: { ...e.metadata, uid: 'ev-uid', resourceVersion: '7', creationTimestamp: '2026-03-01T12:00:00Z' } });

describe('eventName', () => {
  it('is the object name, a dot and a hash: a DNS subdomain', () => {
    const name = eventName(input());
    expect(name).toMatch(/^c1-md-abc\.[a-z0-9]{10}$/);
  });

  it('is the same for the same event, recorded again', () => {
    expect(eventName(input())).toBe(eventName(input()));
  });

  it.each([
    ['reason', { reason: EventReason.SuccessfulDelete }],
    ['note', { note: 'Created Machine "c1-md-abc-x2"' }],
    ['type', { type: 'Warning' as const }],
    ['workflow', { workflow: 'rolling-upgrade' }],
    ['object uid', { regarding: { ...input().regarding, uid: 'another' } }],
  ])('differs when the %s differs', (_what, over) => {
    expect(eventName(input(over))).not.toBe(eventName(input()));
  });
});

describe('nextEvent', () => {
  it('makes a new events.k8s.io/v1 Event with the reporting controller of the workflow', () => {
    const e = nextEvent(input(), undefined, T0);
    expect(e).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: eventName(input()), namespace: 'team-a' },
      eventTime: '2026-03-01T12:00:00.000000Z',
      reportingController: 'clusterless.dev/reconcile-cluster',
      reason: 'SuccessfulCreate',
      type: 'Normal',
      action: 'Create',
      regarding: { kind: 'MachineSet', name: 'c1-md-abc', uid: 'ms-uid' },
      note: 'Created Machine "c1-md-abc-x1"',
    });
    expect(e.series).toBeUndefined();
  });

  it('counts the same event within ten minutes into a series on the same object', () => {
    const first = stored(nextEvent(input(), undefined, T0));
    const second = nextEvent(input(), first, at(EVENT_SERIES_WINDOW_SECONDS));
    expect(second.metadata).toEqual(first.metadata);
    expect(second.eventTime).toBe(first.eventTime);
    expect(second.series).toEqual({ count: 2, lastObservedTime: microTime(at(EVENT_SERIES_WINDOW_SECONDS)) });
    const third = nextEvent(input(), stored(second), at(EVENT_SERIES_WINDOW_SECONDS + 60));
    expect(third.series?.count).toBe(3);
  });

  it('starts over after ten minutes of silence, keeping the stored identity so the write is an update', () => {
    const first = stored(nextEvent(input(), undefined, T0));
    const later = nextEvent(input(), first, at(EVENT_SERIES_WINDOW_SECONDS + 1));
    expect(later.series).toBeUndefined();
    expect(later.eventTime).toBe(microTime(at(EVENT_SERIES_WINDOW_SECONDS + 1)));
    expect(later.metadata).toMatchObject({ name: first.metadata.name, uid: 'ev-uid', resourceVersion: '7' });
  });

  it('keeps at most 1 kB of a note', () => {
    expect(nextEvent(input({ note: 'x'.repeat(5000) }), undefined, T0).note).toHaveLength(1024);
  });
});

describe('expiry', () => {
  it('is an hour after the event was last observed', () => {
    const first = stored(nextEvent(input(), undefined, T0));
    expect(eventExpiresAt(first)).toEqual(at(EVENT_LIFETIME_SECONDS));
    const renewed = nextEvent(input(), first, at(300));
    expect(eventExpiresAt(renewed)).toEqual(at(300 + EVENT_LIFETIME_SECONDS));
    expect(isExpired(renewed, at(EVENT_LIFETIME_SECONDS + 299))).toBe(false);
    expect(isExpired(renewed, at(EVENT_LIFETIME_SECONDS + 300))).toBe(true);
  });
});

describe('the events Table', () => {
  it('has kubectl event printer columns and one row per event', () => {
    const e = stored(nextEvent(input(), undefined, T0));
    const table = eventTable([e], at(90), {});
    expect(table.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
    expect(table.rows[0]!.cells).toEqual([
      '90s',
      'Normal',
      'SuccessfulCreate',
      'machineset/c1-md-abc',
      '',
      'clusterless.dev/reconcile-cluster',
      'Created Machine "c1-md-abc-x1"',
      '90s',
      1,
      e.metadata.name,
    ]);
    expect(table.rows[0]!.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: e.metadata });
  });

  it('shows a series as kubectl does: last seen (xN over first seen)', () => {
    const e = nextEvent(input(), stored(nextEvent(input(), undefined, T0)), at(240));
    expect(eventTable([e], at(300), {}).rows[0]!.cells[0]).toBe('60s (x2 over 5m)');
  });
});

describe('field selectors on events', () => {
  const e = stored(nextEvent(input(), undefined, T0));
  it.each([
    ['regarding.name=c1-md-abc', true],
    ['regarding.name=other', false],
    ['regarding.kind=MachineSet,reason=SuccessfulCreate', true],
    ['type!=Normal', false],
    ['reportingController==clusterless.dev/reconcile-cluster', true],
    [`metadata.name=${e.metadata.name}`, true],
  ])('%s selects it: %s', (text, selected) => {
    expect(parseEventFieldSelector(text)(e)).toBe(selected);
  });

  it('refuses a field events cannot be selected by (400)', () => {
    expect(() => parseEventFieldSelector('spec.replicas=1')).toThrow(/supported fields are .*regarding\.name/);
  });
});
