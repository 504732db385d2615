import type { Logger } from './logger.ts';
import type { PipelineCommand, PipelineCommands, PipelineEvent, PipelineEvents } from './pipeline-events.ts';

/** What a transport knows of an event besides its payload: `id`, where the transport gives events ids (the alert event stream's entry id). */
export interface EventMeta {
  id?: string;
}
export type EventHandler<E extends PipelineEvent> = (payload: PipelineEvents[E], meta: EventMeta) => void | Promise<void>;

export interface SubscribeOptions {
  /**
   * Every replica of the consuming unit gets every event (the API's live view). Otherwise
   * the replicas share the work: each event goes to one of them (ingest workers), or to
   * the one that owns its partition (rules workers).
   */
  everyReplica?: boolean;
}

/** A window of past events a replica can replay to a client that reconnects (`since`). */
export interface EventReplay<E extends PipelineEvent> {
  events: { id: string; payload: PipelineEvents[E] }[];
  /** Events after `since` are gone (trimmed, or `since` is unknown here): load a snapshot instead. */
  gap: boolean;
  /** More follow the last one: ask again from its id. */
  more: boolean;
}
export type CommandHandler<C extends PipelineCommand> = (request: PipelineCommands[C]['request']) => PipelineCommands[C]['reply'] | Promise<PipelineCommands[C]['reply']>;

/**
 * How units exchange the pipeline's events (core/src/pipeline-events.ts). Units never
 * care which implementation carries them: in one process (`createInProcessTransport`)
 * an event is a function call; between processes (`createBusTransport`, MQTT internal
 * topics; a Redis Streams transport implements the same interface) it is a message.
 */
export interface Transport {
  readonly kind: string;
  /**
   * Hand an event to its consumers. Never throws: a failure to deliver is logged by the
   * transport. `partitionKey` (e.g. the enterprise id) keeps one key's events in order
   * on one consumer where the transport partitions; others ignore it.
   */
  publish<E extends PipelineEvent>(event: E, payload: PipelineEvents[E], partitionKey?: string): void;
  /**
   * Hand an event over and resolve once the transport holds it: in one process, once its
   * consumers' promises resolve (the spool has the readings); distributed, once Redis has
   * the entry. Rejects when it could not (the broker then withholds its PUBACK).
   */
  deliver<E extends PipelineEvent>(event: E, payload: PipelineEvents[E], partitionKey: string): Promise<void>;
  /**
   * Resolves once every event published so far is held by the transport (a consumer
   * acknowledges its input only after the events it caused are safe).
   */
  flush(): Promise<void>;
  /** Register a consumer. Subscribe before `start()`, so nothing delivered at start-up is missed. */
  subscribe<E extends PipelineEvent>(event: E, handler: EventHandler<E>, options?: SubscribeOptions): Promise<void>;
  /** Register the one unit that answers a command. */
  handle<C extends PipelineCommand>(command: C, handler: CommandHandler<C>): Promise<void>;
  /**
   * Ask; undefined when no answer came within `timeoutMs` (default 5 s). `partitionKey`
   * (the enterprise) routes it to the replica that owns the answer.
   */
  request<C extends PipelineCommand>(command: C, request: PipelineCommands[C]['request'], options?: { partitionKey?: string; timeoutMs?: number }): Promise<PipelineCommands[C]['reply'] | undefined>;
  /**
   * Past events after `since`, where the transport keeps them (the distributed alert
   * event stream); undefined where it does not (in one process the API's own ring is all
   * there is). Throws HW_ERR_BAD_EVENT_ID for a malformed `since`.
   */
  replay<E extends PipelineEvent>(event: E, since: string, limit: number): Promise<EventReplay<E> | undefined>;
  /** Events and commands this transport has a consumer for (the wiring check reads it). */
  consumers(): { events: PipelineEvent[]; commands: PipelineCommand[] };
  /** Begin delivering (connect, for a distributed transport). */
  start(): Promise<void>;
  /**
   * Stop delivering events to this process's consumers, and keep taking its publishes: a
   * service stops its consumers first, then its unit (which may still publish), then closes.
   */
  stopDelivering(): Promise<void>;
  close(): Promise<void>;
}

/** In one process: direct calls, in subscription order, synchronously (the all-in-one's hot path). */
export function createInProcessTransport(logger: Logger): Transport {
  const log = logger.child({ module: 'transport' });
  const handlers = new Map<PipelineEvent, EventHandler<never>[]>();
  const commands = new Map<PipelineCommand, CommandHandler<never>>();
  const failed = (event: string) => (err: unknown) => log.error({ err, event }, 'a consumer failed on a pipeline event');
  const none: EventMeta = {};
  return {
    kind: 'in-process',
    publish(event, payload) {
      for (const h of handlers.get(event) ?? []) {
        try {
          const p = (h as EventHandler<typeof event>)(payload, none);
          if (p) p.catch(failed(event));
        } catch (err) {
          failed(event)(err);
        }
      }
    },
    async deliver(event, payload) {
      // The hot path of the all-in-one (the broker's PUBACK waits on it): no allocation
      // beyond the consumers' own promises.
      const list = handlers.get(event);
      if (!list) throw new Error(`no consumer for ${event}`);
      for (const h of list) await (h as EventHandler<typeof event>)(payload, none);
    },
    flush: () => Promise.resolve(),
    replay: () => Promise.resolve(undefined),
    async subscribe(event, handler) {
      const list = handlers.get(event) ?? [];
      list.push(handler as EventHandler<never>);
      handlers.set(event, list);
    },
    async handle(command, handler) {
      if (commands.has(command)) throw new Error(`a handler for ${command} is already registered`);
      commands.set(command, handler as unknown as CommandHandler<never>);
    },
    async request(command, request, _options) {
      const h = commands.get(command) as CommandHandler<typeof command> | undefined;
      return h ? await h(request) : undefined;
    },
    consumers: () => ({ events: [...handlers.keys()], commands: [...commands.keys()] }),
    async start() {},
    async stopDelivering() {},
    async close() {
      handlers.clear();
      commands.clear();
    },
  };
}
