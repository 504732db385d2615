import { createHmac } from 'node:crypto';
import type { SendOnce } from './channel.ts';
import { httpRequest } from './http-post.ts';
import { robotResult } from './robot-answer.ts';

/**
 * DingTalk custom robot (钉钉自定义机器人), as its documentation ("自定义机器人发送群消息"
 * and "自定义机器人安全设置 / 加签", open.dingtalk.com) describes it: POST JSON to
 * `…/robot/send?access_token=<token>` with
 * `{"msgtype": "markdown", "markdown": {"title": "…", "text": "…"}, "at": {"atMobiles": […]}}`.
 * With the "加签" security setting the URL also carries `&timestamp=<ms>&sign=<sign>`, where
 * sign = urlEncode(base64(HmacSHA256(key = secret, "<timestamp>\n<secret>"))) and the
 * timestamp must be within an hour of DingTalk's clock. The answer is
 * `{"errcode": 0, "errmsg": "ok"}` when sent; a robot takes at most 20 messages a minute.
 */
export interface DingtalkConfig {
  /** The webhook URL without its token, e.g. https://oapi.dingtalk.com/robot/send */
  url: string;
  /** The robot's access_token (secret). */
  accessToken: string;
  /** The "加签" secret (SEC…); empty when the robot uses keywords or an IP allow-list instead. */
  secret?: string;
}

/** -1 system busy; 130101 sending too fast (DingTalk robot error codes). */
const RETRYABLE = new Set([-1, 130101]);

export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

export function dingtalkAdapter(cfg: DingtalkConfig, now: () => number = Date.now): { sendOnce: SendOnce; secrets: string[] } {
  const secrets = [cfg.accessToken, ...(cfg.secret ? [cfg.secret] : [])];
  const sendOnce: SendOnce = async (message, recipient, { signal }) => {
    const url = new URL(cfg.url);
    url.searchParams.set('access_token', cfg.accessToken);
    if (cfg.secret) {
      // Signed per attempt: a retry an hour later would otherwise be refused as stale.
      const ts = now();
      url.searchParams.set('timestamp', String(ts));
      url.searchParams.set('sign', dingtalkSign(cfg.secret, ts));
    }
    const phones = recipient.phones ?? [];
    // DingTalk only notifies an @-mentioned member when the text itself holds "@<mobile>".
    const text = phones.length ? `${message.markdown}\n\n${phones.map((p) => `@${p}`).join(' ')}` : message.markdown;
    const body = JSON.stringify({ msgtype: 'markdown', markdown: { title: message.subject, text }, at: { atMobiles: phones, isAtAll: false } });
    const a = await httpRequest(url.toString(), { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body, signal }, now);
    return robotResult(a, secrets, RETRYABLE);
  };
  return { sendOnce, secrets };
}
