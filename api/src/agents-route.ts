import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Catalogue } from '../../core/src/agents.ts';
import type { UserDef } from '../../core/src/registry.ts';
import { errors } from './schemas.ts';

const AgentNameSchema = Type.Object({
  key: Type.String({ description: 'the agent key alerts and sensors carry, e.g. gas.h2s' }),
  name: Type.String({ description: 'Chinese name (core/data/agents.yaml)' }),
  nameEn: Type.String({ description: 'English name' }),
  kind: Type.String(),
  unit: Type.String({ description: 'unit its limits are expressed in' }),
});

/** The agent catalogue's names, so a client shows "硫化氢 / Hydrogen sulphide" instead of `gas.h2s`. */
export function registerAgentsRoute(api: FastifyInstance, deps: { catalogue: Catalogue; userOf(req: FastifyRequest): UserDef }) {
  const agents = [...deps.catalogue.agents.values()].map((a) => ({ key: a.key, name: a.name, nameEn: a.nameEn, kind: a.kind, unit: a.unit }));
  api.get('/api/agents', { schema: { tags: ['network'], summary: 'Hazardous agents of the catalogue with their Chinese and English names', response: { 200: Type.Array(AgentNameSchema), ...errors(401) } } }, async (req) => {
    deps.userOf(req);
    return agents;
  });
}
