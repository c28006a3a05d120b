// send.js - the OpenTelemetry JavaScript SDK, with its OTLP/HTTP protobuf
// exporters, sending metrics and logs to a pane (test_otel.sh runs it).
//
//   node send.js BASE_URL SERVICE gzip|none cumulative|delta
//
// Metrics: a counter (3, then 4 more: 7 in all), a histogram with explicit
// buckets (5, 50, 500), a histogram aggregated as an exponential histogram
// (3, 6, 12), a gauge (42); exported twice (forceFlush) so a delta run sends
// two deltas. Logs: one WARN record with an attribute. Exits non-zero when
// any export did not succeed, so the test sees the exporter's verdict.
'use strict';
const { metrics } = require('@opentelemetry/api');
const { SeverityNumber } = require('@opentelemetry/api-logs');
const { Resource } = require('@opentelemetry/resources');
const {
  MeterProvider, PeriodicExportingMetricReader, View, ExponentialHistogramAggregation,
  AggregationTemporality,
} = require('@opentelemetry/sdk-metrics');
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-proto');
const { AggregationTemporalityPreference } = require('@opentelemetry/exporter-metrics-otlp-http');
const { LoggerProvider, SimpleLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-proto');

const [base, service, comp, temporality] = process.argv.slice(2);
const compression = comp === 'gzip' ? 'gzip' : 'none';
const results = [];

// Wraps an exporter to keep the result of every export.
function watched(exporter) {
  const inner = exporter.export.bind(exporter);
  exporter.export = (items, cb) => inner(items, (r) => { results.push(r); cb(r); });
  return exporter;
}

async function main() {
  const resource = new Resource({
    'service.name': service,
    'deployment.environment.name': 'staging',
  });
  const metricExporter = watched(new OTLPMetricExporter({
    url: `${base}/v1/metrics`, compression,
    temporalityPreference: temporality === 'delta'
      ? AggregationTemporalityPreference.DELTA : AggregationTemporalityPreference.CUMULATIVE,
  }));
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3600000 });
  const provider = new MeterProvider({
    resource,
    readers: [reader],
    views: [new View({ instrumentName: 'payload_size', aggregation: new ExponentialHistogramAggregation(20) })],
  });
  const meter = provider.getMeter('pane-test');
  const orders = meter.createCounter('orders', { description: 'orders placed' });
  const latency = meter.createHistogram('latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100, 1000] } });
  const size = meter.createHistogram('payload_size');
  const gauge = meter.createGauge('temperature');
  orders.add(3, { route: '/pay' });
  for (const v of [5, 50, 500]) latency.record(v, { route: '/pay' });
  for (const v of [3, 6, 12]) size.record(v);
  gauge.record(42);
  await reader.forceFlush();
  orders.add(4, { route: '/pay' });
  await reader.forceFlush();
  await provider.shutdown();

  const logExporter = watched(new OTLPLogExporter({ url: `${base}/v1/logs`, compression }));
  const loggerProvider = new LoggerProvider({ resource });
  loggerProvider.addLogRecordProcessor(new SimpleLogRecordProcessor(logExporter));
  loggerProvider.getLogger('pane-test').emit({
    severityNumber: SeverityNumber.WARN, severityText: 'WARN',
    body: `payment declined for ${service}`, attributes: { order_id: 'o-17' },
  });
  await loggerProvider.forceFlush();
  await loggerProvider.shutdown();

  const failed = results.filter((r) => r.code !== 0);
  if (results.length < 3 || failed.length) {
    console.error(`exports: ${results.length}, failed: ${failed.map((r) => String(r.error)).join('; ')}`);
    process.exit(1);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
