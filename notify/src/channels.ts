import type { Channel, SendOnce } from './channel.ts';
import type { ChannelDef } from './channel-config.ts';
import { deliver, type DeliverDeps } from './deliver.ts';
import { dingtalkAdapter } from './dingtalk.ts';
import { emailAdapter } from './email.ts';
import { smsGatewayAdapter } from './sms-gateway.ts';
import { webhookAdapter } from './webhook.ts';
import { wecomAdapter } from './wecom.ts';

interface Adapter {
  sendOnce: SendOnce;
  secrets: string[];
  close?(): Promise<void>;
}

function adapterFor(def: ChannelDef, now: () => number): Adapter {
  switch (def.type) {
    case 'webhook':
      return webhookAdapter({ url: def.url, secret: def.secret, ...(def.headers ? { headers: def.headers } : {}) }, now);
    case 'email':
      return emailAdapter({
        host: def.host, port: def.port, secure: def.secure, requireTLS: def.requireTLS, tls: def.tls, from: def.from, maxConnections: def.maxConnections,
        ...(def.auth ? { auth: def.auth } : {}), ...(def.messageIdDomain ? { messageIdDomain: def.messageIdDomain } : {}),
      }, def.policy.timeoutMs);
    case 'wecom':
      return wecomAdapter({ url: def.url, key: def.key }, now);
    case 'dingtalk':
      return dingtalkAdapter({ url: def.url, accessToken: def.accessToken, ...(def.secret ? { secret: def.secret } : {}) }, now);
    case 'sms':
      return smsGatewayAdapter({ url: def.url, method: def.method, headers: def.headers ?? {}, bodyFormat: def.bodyFormat, body: def.body, secrets: def.secrets ?? {}, success: def.success }, now);
  }
}

/**
 * A channel from its validated definition (channel-config.ts): the type's adapter for
 * one attempt, inside deliver.ts for the channel's rate limit, timeout and retries.
 */
export function createChannel(def: ChannelDef, deps: Omit<DeliverDeps, 'secrets'> = {}): Channel {
  const adapter = adapterFor(def, deps.now ?? Date.now);
  const send = deliver(adapter.sendOnce, def.policy, { ...deps, secrets: adapter.secrets });
  let closed = false;
  return {
    name: def.name,
    type: def.type,
    send: (message, recipient, opts) =>
      closed ? Promise.resolve({ ok: false, status: 'aborted', answer: `channel ${def.name} is closed`, retryable: true, attempts: 0 }) : send(message, recipient, opts),
    close: async () => {
      closed = true;
      await adapter.close?.();
    },
  };
}

/** Every configured channel by name: what routing policies and the outbox look up. */
export function createChannels(defs: readonly ChannelDef[], deps: Omit<DeliverDeps, 'secrets'> = {}): ReadonlyMap<string, Channel> {
  return new Map(defs.map((d) => [d.name, createChannel(d, deps)]));
}
