import { Type, type Static } from '@sinclair/typebox';
import type { Rejection } from './errors.ts';
import type { HealthReport } from './health.ts';
import type { AlertCommand, AlertEvent, Grade, GradeResult, Reading } from './types.ts';

/**
 * The edges of the pipeline, declared once (DESIGN.md "Data flow"). Units publish and
 * subscribe to these by name through a Transport (core/src/transport.ts): in one process
 * an event is a function call, between processes it travels on Redis Streams
 * (core/src/transport-streams.ts, which declares each event's route).
 * Who produces and who consumes each one is the wiring table, cli/wiring.ts.
 */

/** A message a gateway published on its `up` topic, as the broker accepted it (before ingest decodes it). */
export interface GatewayMessage {
  topic: string;
  payload: Buffer;
}

/** A gateway went online or offline (distinct from a sensor's dead-man). */
export interface GatewayPresence {
  enterpriseId: string;
  gatewayId: string;
  online: boolean;
  ts: number;
  /** What told us: the retained status message, or the connection itself. */
  via: 'status' | 'connect' | 'disconnect';
}

/** Readings ingest refused, as rules.handleRejections takes them (out-of-range ones count towards a sensor fault). */
export interface RejectedReadings {
  rejections: Rejection[];
  /** When ingest refused them, ms. */
  ts: number;
  /** The gateway's enterprise (the partition key). */
  enterpriseId?: string;
}

/**
 * Live exposure of a monitoring point (the rules engine's SensorExposure; the API's answer and the split topology's live insights). For noise, `lex8h`
 * is the profile's 8-h level (GBZ LEX,8h; OSHA/NIOSH TWA from the dose) and `dosePct` the dose.
 */
export const LiveExposureSchema = Type.Object({
  sensorId: Type.String(),
  twa8h: Type.Number({ description: 'C_TWA of the last 8 h in the agent unit (noise: the dose fraction D/100)' }),
  coverage8h: Type.Number({ description: 'share of the last 8 h with readings, 0–1' }),
  stel15: Type.Number({ description: 'C_STE of the last 15 min' }),
  coverage15: Type.Number(),
  max15: Type.Number(),
  last: Type.Number(),
  lastTs: Type.Number(),
  lex8h: Type.Optional(Type.Number({ description: 'noise: the profile\'s 8-h level, dB(A)' })),
  dosePct: Type.Optional(Type.Number({ description: 'noise: daily dose % under the profile\'s rule (OSHA 1910.95 App. A; NIOSH; GBZ equal energy)' })),
  shift: Type.Optional(Type.Object({ name: Type.String(), startMs: Type.Number(), endMs: Type.Number(), twa: Type.Number({ description: 'the shift so far: C_TWA (ΣCiTi / 8 h), for noise its 8-h level in dB(A)' }) })),
}, { additionalProperties: true });
export type LiveExposure = Static<typeof LiveExposureSchema>;

/**
 * What the rules engine knows that the API shows (grades and live exposure), as a
 * snapshot of some sensors and their enterprises: the split API keeps the latest of each.
 */
export interface LiveInsights {
  ts: number;
  sensors: { sensorId: string; grade: GradeResult | null; exposure: LiveExposure | null }[];
  enterprises: { enterpriseId: string; grade: Grade | null }[];
}

/** Fire-and-forget events: one producer side, any number of consumers. */
export interface PipelineEvents {
  /** Broker → ingest; the broker's PUBACK waits until the transport holds it (Transport.deliver). */
  'gateway.up': GatewayMessage;
  'readings.accepted': Reading[];
  'readings.rejected': RejectedReadings;
  'gateway.presence': GatewayPresence;
  'alert.event': AlertEvent;
  'service.health': HealthReport;
  'insights.live': LiveInsights;
}

/** Commands: one request, one reply from the unit that owns the answer (`null`: nothing to do). */
export interface PipelineCommands {
  /** A person's command on an alert; the reply is the event it caused, null when the alert is not active. */
  'alert.command': { request: AlertCommand; reply: AlertEvent | null };
}

export type PipelineEvent = keyof PipelineEvents;
export type PipelineCommand = keyof PipelineCommands;

/** Every declared event, for tests and the wiring check (kept in step with the interfaces by `satisfies`). */
export const PIPELINE_EVENTS = ['gateway.up', 'readings.accepted', 'readings.rejected', 'gateway.presence', 'alert.event', 'service.health', 'insights.live'] as const satisfies readonly PipelineEvent[];
export const PIPELINE_COMMANDS = ['alert.command'] as const satisfies readonly PipelineCommand[];

// Compile-time check that the lists above name every key (a new event must be listed).
type Missing<T, L extends readonly unknown[]> = Exclude<T, L[number]>;
const _allEvents: Missing<PipelineEvent, typeof PIPELINE_EVENTS> extends never ? true : never = true;
const _allCommands: Missing<PipelineCommand, typeof PIPELINE_COMMANDS> extends never ? true : never = true;
void _allEvents;
void _allCommands;
