/**
 * The SMS gateway's request, filled from a template: every Chinese SMS provider wants a
 * different request, so the provider is described in configuration, not in code.
 *
 * Placeholders: `{{message}}`, `{{phones}}` (comma-separated), `{{phonesJson}}` (a JSON
 * array, for use outside quotes in a JSON body), `{{idempotencyKey}}`, and
 * `{{secret.NAME}}` for a value from the channel's `secrets`. Each value is escaped for
 * where it lands: JSON string content in a JSON body, percent-encoding in a form body
 * and in the URL, as is in a text body.
 */
export type BodyFormat = 'json' | 'form' | 'text';

export interface TemplateValues {
  message: string;
  phones: readonly string[];
  idempotencyKey: string;
  secrets: Readonly<Record<string, string>>;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g;
const FIXED = new Set(['message', 'phones', 'phonesJson', 'idempotencyKey']);

/** Problems with a template's placeholders (unknown names, phonesJson outside a JSON body). */
export function templateProblems(template: string, where: 'url' | BodyFormat, secretNames: readonly string[]): string[] {
  const problems: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1]!;
    if (name === 'phonesJson' && where !== 'json') problems.push(`{{phonesJson}} is only for a JSON body`);
    else if (name.startsWith('secret.')) {
      if (!secretNames.includes(name.slice(7))) problems.push(`{{${name}}} names no entry of secrets`);
    } else if (!FIXED.has(name)) problems.push(`unknown placeholder {{${name}}}`);
  }
  return problems;
}

export function fillTemplate(template: string, where: 'url' | BodyFormat, v: TemplateValues): string {
  const escape = (s: string) => (where === 'json' ? JSON.stringify(s).slice(1, -1) : where === 'text' ? s : encodeURIComponent(s));
  return template.replace(PLACEHOLDER, (_all, name: string) => {
    if (name === 'phonesJson') return JSON.stringify(v.phones);
    if (name === 'message') return escape(v.message);
    if (name === 'phones') return escape(v.phones.join(','));
    if (name === 'idempotencyKey') return escape(v.idempotencyKey);
    return escape(v.secrets[name.slice(7)] ?? '');
  });
}

/** Longest path followed into the gateway's JSON answer. */
const PATH_MAX_SEGMENTS = 16;

/** `result.code`, `data.0.status` or `$.result.code`: dot-separated keys, numbers index arrays. */
export function jsonPathProblems(path: string): string[] {
  const segs = path.replace(/^\$\.?/, '').split('.');
  if (segs.length > PATH_MAX_SEGMENTS) return [`jsonPath has more than ${PATH_MAX_SEGMENTS} segments`];
  return segs.some((s) => s === '') ? [`jsonPath ${path} has an empty segment`] : [];
}

export function readJsonPath(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const seg of path.replace(/^\$\.?/, '').split('.').slice(0, PATH_MAX_SEGMENTS)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? (/^\d+$/.test(seg) ? cur[Number(seg)] : undefined) : Object.hasOwn(cur, seg) ? (cur as Record<string, unknown>)[seg] : undefined;
  }
  return cur;
}
