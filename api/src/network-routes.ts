import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RegistryHolder, UserDef } from '../../core/src/registry.ts';
import type { AlertView } from './alert-view.ts';
import type { Insights } from './monitoring-routes.ts';
import { EnterpriseSummarySchema, errors, JurisdictionSchema } from './schemas.ts';

export interface NetworkRoutesDeps {
  registry: RegistryHolder;
  view: AlertView;
  insights?: Insights;
  userOf(req: FastifyRequest): UserDef;
}

/** GET /api/jurisdictions and GET /api/enterprises: the part of the monitoring network a user may see. */
export function registerNetworkRoutes(api: FastifyInstance, deps: NetworkRoutesDeps) {
  api.get('/api/jurisdictions', { schema: { tags: ['network'], summary: 'Your part of the jurisdiction tree: your jurisdiction, everything under it, and its ancestors', response: { 200: Type.Array(JurisdictionSchema), ...errors(401) } } }, async (req) => {
    const user = deps.userOf(req);
    const reg = deps.registry.current;
    // An enterprise officer's own jurisdiction is their enterprise's township.
    const own = user.role === 'enterprise' ? reg.enterprises.get(user.scope)?.township : user.scope;
    if (own === undefined) return [];
    const chain = new Set(reg.ancestors(own));
    return [...reg.jurisdictions.values()].filter((j) => chain.has(j.id) || (user.role !== 'enterprise' && reg.ancestors(j.id).includes(own)));
  });

  api.get('/api/enterprises', { schema: { tags: ['network'], summary: 'Enterprises you may see, with their GBZ/T 229 grade (worst point) and open alerts', response: { 200: Type.Array(EnterpriseSummarySchema), ...errors(401) } } }, async (req) => {
    const user = deps.userOf(req);
    const reg = deps.registry.current;
    const visible = reg.visibleEnterprises(user);
    const open = deps.view.all().filter((a) => a.state !== 'cleared');
    return [...reg.enterprises.values()].filter((e) => visible.has(e.id)).map((e) => ({
      id: e.id, name: e.name, nameEn: e.nameEn, industry: e.industry, township: e.township, profile: e.profileId,
      grade: deps.insights?.enterpriseGrade(e.id) ?? null,
      sensors: e.gateways.reduce((n, g) => n + g.sensors.length, 0),
      openAlerts: open.filter((a) => a.enterpriseId === e.id).length,
    }));
  });
}
