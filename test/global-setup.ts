import type { TestProject } from 'vitest/node';
import { startInfluxd, type InfluxdHandle } from './influxd.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    influxUrl: string;
  }
}

let influxd: InfluxdHandle | undefined;

/** One real influxd for the whole run; each test file uses its own database. */
export async function setup(project: TestProject) {
  influxd = await startInfluxd();
  project.provide('influxUrl', influxd.url);
}

export async function teardown() {
  await influxd?.destroy();
}
