import type { Logger } from './logger.ts';
import type { PipelineCommand, PipelineCommands, PipelineEvent, PipelineEvents } from './pipeline-events.ts';

export type EventHandler<E extends PipelineEvent> = (payload: PipelineEvents[E]) => void | Promise<void>;
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
  /** Register a consumer. Subscribe before `start()`, so nothing delivered at start-up is missed. */
  subscribe<E extends PipelineEvent>(event: E, handler: EventHandler<E>): Promise<void>;
  /** Register the one unit that answers a command. */
  handle<C extends PipelineCommand>(command: C, handler: CommandHandler<C>): Promise<void>;
  /** Ask; undefined when no answer came within `timeoutMs` (default 5 s). */
  request<C extends PipelineCommand>(command: C, request: PipelineCommands[C]['request'], timeoutMs?: number): Promise<PipelineCommands[C]['reply'] | undefined>;
  /** Events and commands this transport has a consumer for (the wiring check reads it). */
  consumers(): { events: PipelineEvent[]; commands: PipelineCommand[] };
  /** Begin delivering (connect, for a distributed transport). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** In one process: direct calls, in subscription order, synchronously (the all-in-one's hot path). */
export function createInProcessTransport(logger: Logger): Transport {
  const log = logger.child({ module: 'transport' });
  const handlers = new Map<PipelineEvent, EventHandler<never>[]>();
  const commands = new Map<PipelineCommand, CommandHandler<never>>();
  const failed = (event: string) => (err: unknown) => log.error({ err, event }, 'a consumer failed on a pipeline event');
  return {
    kind: 'in-process',
    publish(event, payload) {
      for (const h of handlers.get(event) ?? []) {
        try {
          const p = (h as EventHandler<typeof event>)(payload);
          if (p) p.catch(failed(event));
        } catch (err) {
          failed(event)(err);
        }
      }
    },
    async subscribe(event, handler) {
      const list = handlers.get(event) ?? [];
      list.push(handler as EventHandler<never>);
      handlers.set(event, list);
    },
    async handle(command, handler) {
      if (commands.has(command)) throw new Error(`a handler for ${command} is already registered`);
      commands.set(command, handler as unknown as CommandHandler<never>);
    },
    async request(command, request) {
      const h = commands.get(command) as CommandHandler<typeof command> | undefined;
      return h ? await h(request) : undefined;
    },
    consumers: () => ({ events: [...handlers.keys()], commands: [...commands.keys()] }),
    async start() {},
    async close() {
      handlers.clear();
      commands.clear();
    },
  };
}
