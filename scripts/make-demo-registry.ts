/**
 * Writes examples/registry.yaml (hashes only) and examples/demo-credentials.yaml
 * (the demo gateways' plaintext secrets, which the simulators need). Demo data only:
 * a real deployment writes its own registry and never commits secrets.
 *   npx tsx scripts/make-demo-registry.ts
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { hashSecret } from '../core/src/password.ts';

type S = [id: string, agent: string, workplace: string, unit: string, max: number];

const jurisdictions = [
  { id: 'xz', name: '徐州市', nameEn: 'Xuzhou', level: 'city', kpiTargetPct: 85 },
  { id: 'xz-tongshan', name: '铜山区', nameEn: 'Tongshan District', level: 'district', parent: 'xz' },
  { id: 'xz-jiawang', name: '贾汪区', nameEn: 'Jiawang District', level: 'district', parent: 'xz' },
  { id: 'xz-tongshan-liuxin', name: '柳新镇', nameEn: 'Liuxin Town', level: 'township', parent: 'xz-tongshan' },
  { id: 'xz-tongshan-liguo', name: '利国镇', nameEn: 'Liguo Town', level: 'township', parent: 'xz-tongshan' },
  { id: 'xz-jiawang-dawu', name: '大吴街道', nameEn: 'Dawu Subdistrict', level: 'township', parent: 'xz-jiawang' },
];

const dayShifts = [{ name: '白班', start: '08:00', hours: 8 }, { name: '中班', start: '16:00', hours: 8 }, { name: '夜班', start: '00:00', hours: 8 }];

const plants: { id: string; name: string; nameEn: string; industry: string; township: string; sensors: S[] }[] = [
  { id: 'coal-liuxin', name: '柳新煤矿', nameEn: 'Liuxin Coal Mine', industry: 'coal-mine', township: 'xz-tongshan-liuxin', sensors: [
    ['coal-liuxin.dust-resp-1', 'dust.coal.respirable', '综采工作面', 'mg/m3', 200],
    ['coal-liuxin.dust-total-1', 'dust.coal.total', '综采工作面', 'mg/m3', 500],
    ['coal-liuxin.co-1', 'gas.co', '回风巷', 'ppm', 1000],
    ['coal-liuxin.h2s-1', 'gas.h2s', '回风巷', 'ppm', 100],
    ['coal-liuxin.noise-1', 'noise', '采煤机', 'dB(A)', 140],
    ['coal-liuxin.radon-1', 'radon', '主运输巷', 'Bq/m3', 50000] ] },
  { id: 'cement-liguo', name: '利国水泥有限公司', nameEn: 'Liguo Cement Co.', industry: 'cement', township: 'xz-tongshan-liguo', sensors: [
    ['cement-liguo.dust-resp-1', 'dust.cement.respirable', '包装车间', 'mg/m3', 200],
    ['cement-liguo.dust-total-1', 'dust.cement.total', '包装车间', 'mg/m3', 500],
    ['cement-liguo.so2-1', 'gas.so2', '窑头', 'mg/m3', 200],
    ['cement-liguo.noise-1', 'noise', '磨机房', 'dB(A)', 140] ] },
  { id: 'foundry-liguo', name: '利国铸造厂', nameEn: 'Liguo Foundry', industry: 'foundry', township: 'xz-tongshan-liguo', sensors: [
    ['foundry-liguo.silica-resp-1', 'dust.silica.respirable', '清砂工段', 'mg/m3', 200],
    ['foundry-liguo.silica-total-1', 'dust.silica.total', '清砂工段', 'mg/m3', 500],
    ['foundry-liguo.weld-1', 'dust.welding.total', '焊接工位', 'mg/m3', 200],
    ['foundry-liguo.co-1', 'gas.co', '熔炼炉', 'mg/m3', 1000],
    ['foundry-liguo.noise-1', 'noise', '落砂机', 'dB(A)', 140] ] },
  { id: 'chem-dawu', name: '大吴化工有限公司', nameEn: 'Dawu Chemical Co.', industry: 'chemical', township: 'xz-jiawang-dawu', sensors: [
    ['chem-dawu.benzene-1', 'gas.benzene', '精馏装置', 'mg/m3', 500],
    ['chem-dawu.toluene-1', 'gas.toluene', '精馏装置', 'mg/m3', 2000],
    ['chem-dawu.h2s-1', 'gas.h2s', '污水处理', 'ppm', 100],
    ['chem-dawu.nh3-1', 'gas.nh3', '合成工段', 'ppm', 500],
    ['chem-dawu.cl2-1', 'gas.cl2', '液氯库', 'ppm', 50],
    ['chem-dawu.noise-1', 'noise', '压缩机房', 'dB(A)', 140] ] },
  { id: 'furniture-dawu', name: '大吴家具厂', nameEn: 'Dawu Furniture Works', industry: 'furniture', township: 'xz-jiawang-dawu', sensors: [
    ['furniture-dawu.dust-1', 'dust.other.total', '砂光车间', 'mg/m3', 500],
    ['furniture-dawu.hcho-1', 'gas.formaldehyde', '贴面车间', 'mg/m3', 50],
    ['furniture-dawu.xylene-1', 'gas.xylene', '喷漆房', 'mg/m3', 2000],
    ['furniture-dawu.benzene-1', 'gas.benzene', '喷漆房', 'mg/m3', 500],
    ['furniture-dawu.noise-1', 'noise', '开料车间', 'dB(A)', 140] ] },
  { id: 'buildmat-liuxin', name: '柳新新型建材厂', nameEn: 'Liuxin Building Materials', industry: 'building-materials', township: 'xz-tongshan-liuxin', sensors: [
    ['buildmat-liuxin.silica-resp-1', 'dust.silica.respirable', '破碎车间', 'mg/m3', 200],
    ['buildmat-liuxin.dust-1', 'dust.other.total', '成型车间', 'mg/m3', 500],
    ['buildmat-liuxin.noise-1', 'noise', '破碎车间', 'dB(A)', 140],
    ['buildmat-liuxin.radon-1', 'radon', '原料库', 'Bq/m3', 50000] ] },
];

const credentials: Record<string, string> = {};
const enterprises = [];
for (const p of plants) {
  const gatewayId = 'gw1';
  const secret = randomBytes(12).toString('hex');
  credentials[`${p.id}/${gatewayId}`] = secret;
  enterprises.push({
    id: p.id, name: p.name, nameEn: p.nameEn, industry: p.industry, township: p.township, profile: 'GBZ',
    shifts: p.industry === 'coal-mine' ? dayShifts : [{ name: '白班', start: '08:00', hours: 8 }],
    gateways: [{
      id: gatewayId,
      secretHash: await hashSecret(secret),
      sensors: p.sensors.map(([id, agent, workplace, unit, max]) => ({ id, agent, workplace, unit, intervalS: 2, min: 0, max })),
    }],
  });
}

const DEMO_PASSWORD = 'hazardwatch';
const users = [
  { username: 'city', name: '徐州市卫健委 监督员', role: 'city', scope: 'xz' },
  { username: 'district', name: '铜山区卫健委 监督员', role: 'district', scope: 'xz-tongshan' },
  { username: 'township', name: '利国镇 监督员', role: 'township', scope: 'xz-tongshan-liguo' },
  { username: 'officer', name: '利国水泥 安全员', role: 'enterprise', scope: 'cement-liguo' },
];
const usersOut = [];
for (const u of users) usersOut.push({ ...u, passwordHash: await hashSecret(DEMO_PASSWORD) });

writeFileSync('examples/registry.yaml', '# Demo registry (generated by scripts/make-demo-registry.ts). Secrets are stored only as scrypt hashes.\n' + stringify({ jurisdictions, enterprises, users: usersOut }, { lineWidth: 0 }));
writeFileSync('examples/demo-credentials.yaml', '# DEMO ONLY: plaintext secrets of the demo gateways, read by the simulators.\n# Demo logins: city, district, township, officer; password "hazardwatch".\n' + stringify({ gateways: credentials, users: Object.fromEntries(users.map((u) => [u.username, DEMO_PASSWORD])) }));
console.log('wrote examples/registry.yaml and examples/demo-credentials.yaml');
