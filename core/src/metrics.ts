import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every Prometheus metric of hazardwatch, on one registry per process (served at /metrics). */
export function createMetrics() {
  const registry = new Registry();
  const r = [registry];
  return {
    registry,
    ingestReceived: new Counter({ name: 'hw_ingest_readings_received_total', help: 'Readings received in MQTT messages', registers: r }),
    ingestAccepted: new Counter({ name: 'hw_ingest_readings_accepted_total', help: 'Readings that passed validation', registers: r }),
    ingestRejected: new Counter({ name: 'hw_ingest_readings_rejected_total', help: 'Readings or payloads rejected, by error code', labelNames: ['code'], registers: r }),
    ingestWritten: new Counter({ name: 'hw_ingest_readings_written_total', help: 'Readings durably written to the store', registers: r }),
    ingestWriteErrors: new Counter({ name: 'hw_ingest_write_errors_total', help: 'Failed store write attempts', registers: r }),
    ingestSpooled: new Counter({ name: 'hw_ingest_readings_spooled_total', help: 'Readings that went to the spool files only (store behind or down)', registers: r }),
    ingestReplayed: new Counter({ name: 'hw_ingest_readings_replayed_total', help: 'Readings replayed from spool files into the store', registers: r }),
    ingestSpoolBytes: new Gauge({ name: 'hw_ingest_spool_bytes', help: 'Bytes in the ingest spool', registers: r }),
    ingestAckWaits: new Counter({ name: 'hw_ingest_ack_waits_total', help: 'Messages whose PUBACK waited: spool full, or the store behind by more than HW_INGEST_ACK_MAX_PENDING_READINGS', labelNames: ['reason'], registers: r }),
    ingestPending: new Gauge({ name: 'hw_ingest_readings_pending', help: 'Accepted readings not yet written', registers: r }),
    ingestUnexpected: new Counter({ name: 'hw_ingest_unexpected_errors_total', help: 'Exceptions ingest did not expect (a defect: each is logged), by stage: decode, validate, message, hook', labelNames: ['stage'], registers: r }),
    ingestWriteSeconds: new Histogram({ name: 'hw_ingest_write_seconds', help: 'Store write latency per batch', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: r }),
    alertsRaised: new Counter({ name: 'hw_alerts_raised_total', help: 'Alerts raised, by level', labelNames: ['level'], registers: r }),
    alertsOpen: new Gauge({ name: 'hw_alerts_open', help: 'Alerts currently open or acknowledged', registers: r }),
    rulesOutOfOrder: new Counter({ name: 'hw_rules_out_of_order_total', help: 'Readings not evaluated because the sensor had a newer one already (exposure windows take readings in time order only): a gateway\'s out-of-order readings, and in the split deployment readings two ingest workers forwarded in the other order', registers: r }),
    rulesForeign: new Counter({ name: 'hw_rules_foreign_total', help: 'Readings, rejections and gateway presence of enterprises this rules worker does not own, ignored (they reached the wrong worker), by kind', labelNames: ['kind'], registers: r }),
    mqttConnections: new Gauge({ name: 'hw_mqtt_connections', help: 'Connected MQTT clients', registers: r }),
    mqttMessagesIn: new Counter({ name: 'hw_mqtt_messages_in_total', help: 'MQTT messages published by clients', registers: r }),
    mqttRefused: new Counter({ name: 'hw_mqtt_refused_total', help: 'MQTT refusals, by reason', labelNames: ['reason'], registers: r }),
    wsClients: new Gauge({ name: 'hw_ws_clients', help: 'Connected dashboard WebSocket clients', registers: r }),
    wsDropped: new Counter({ name: 'hw_ws_dropped_total', help: 'WebSocket clients disconnected for falling behind (more than 4 MB unsent)', registers: r }),
    apiLoginThrottled: new Counter({ name: 'hw_api_login_throttled_total', help: 'Logins refused by the throttle (429), by limit: address or account. The login audit keeps one of them per window and key', labelNames: ['limit'], registers: r }),
    wsUnexpected: new Counter({ name: 'hw_ws_unexpected_errors_total', help: 'WebSocket client messages that failed unexpectedly (a defect: each is logged and closes that socket with 1011)', registers: r }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
