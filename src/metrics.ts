import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Herald's Prometheus metrics, one registry per instance (tests run several in one process). */
export class Metrics {
  readonly registry = new Registry();
  readonly eventsIngested = new Counter({
    name: 'herald_events_ingested_total',
    help: 'Events accepted by the API',
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'herald_deliveries_total',
    help: 'Delivery outcomes after each attempt: succeeded, retry, failed; and skipped or cancelled without an attempt',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly attemptDuration = new Histogram({
    name: 'herald_attempt_duration_seconds',
    help: 'Duration of HTTP attempts to webhooks',
    labelNames: ['result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly inFlight: Gauge;
  readonly queueDepth: Gauge;

  constructor(sources: { inFlight(): number; queueDepth(): Promise<number> }) {
    this.inFlight = new Gauge({
      name: 'herald_attempts_in_flight',
      help: 'Attempts being sent by this process',
      registers: [this.registry],
      collect() {
        this.set(sources.inFlight());
      },
    });
    this.queueDepth = new Gauge({
      name: 'herald_queue_depth',
      help: 'Pending deliveries (due now or scheduled for a retry)',
      registers: [this.registry],
      async collect() {
        this.set(await sources.queueDepth());
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
  }
}
