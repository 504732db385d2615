import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const FILE = new URL('../BENCHMARKS.md', import.meta.url).pathname;

/** Replace (or append) the `## <title>` section of BENCHMARKS.md, leaving the others alone. */
export function updateBenchmarks(title: string, lines: string[]): void {
  const head = '# Benchmarks\n\nFigures measured on this project\'s machines. Rerun with the command given in each section.\n';
  const text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : head;
  const section = `## ${title}\n\n${lines.join('\n')}\n`;
  const re = new RegExp(`## ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n[\\s\\S]*?(?=\\n## |$)`);
  const next = re.test(text) ? text.replace(re, section.trimEnd() + '\n') : `${text.trimEnd()}\n\n${section}`;
  writeFileSync(FILE, next);
}
