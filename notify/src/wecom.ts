import { truncateUtf8 } from './answer.ts';
import type { SendOnce } from './channel.ts';
import { httpRequest } from './http-post.ts';
import { robotResult } from './robot-answer.ts';

/**
 * WeCom group robot (企业微信群机器人), as its documentation ("群机器人配置说明",
 * developer.work.weixin.qq.com/document/path/91770) describes it: POST JSON to the
 * robot's webhook URL `…/cgi-bin/webhook/send?key=<key>` with
 * `{"msgtype": "markdown", "markdown": {"content": "…"}}`, content at most 4096 bytes of
 * UTF-8; the answer is `{"errcode": 0, "errmsg": "ok"}` when sent. A robot takes at most
 * 20 messages a minute (the channel's default rate is set below that, channel-config.ts).
 */
export interface WecomConfig {
  /** The webhook URL without its key, e.g. https://qyapi.weixin.qq.com/cgi-bin/webhook/send */
  url: string;
  /** The robot's key (secret: anyone holding it can post to the group). */
  key: string;
}

/** Markdown content limit, bytes of UTF-8 (vendor documentation above). */
export const WECOM_MARKDOWN_MAX_BYTES = 4096;
/** -1 system busy; 45009 API call frequency exceeded (WeCom global error codes). */
const RETRYABLE = new Set([-1, 45009]);

export function wecomAdapter(cfg: WecomConfig, now: () => number = Date.now): { sendOnce: SendOnce; secrets: string[] } {
  const url = new URL(cfg.url);
  url.searchParams.set('key', cfg.key);
  const target = url.toString();
  const secrets = [cfg.key];
  const sendOnce: SendOnce = async (message, _recipient, { signal }) => {
    const body = JSON.stringify({ msgtype: 'markdown', markdown: { content: truncateUtf8(message.markdown, WECOM_MARKDOWN_MAX_BYTES) } });
    const a = await httpRequest(target, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body, signal }, now);
    return robotResult(a, secrets, RETRYABLE);
  };
  return { sendOnce, secrets };
}
