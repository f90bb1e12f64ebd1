/**
 * The blast radius: live connections (recorded on a real kernel, or built here) against a Plan: which are
 * faulted, which untouched, the warnings; grouping; the text and JSON output (snapshots); its cost.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildSpec } from '../../src/config/spec.ts';
import type { Spec } from '../../src/model/spec.ts';
import type { VariableName } from '../../src/config/vars.ts';
import { parseCidr } from '../../src/model/addresses.ts';
import type { Resolved } from '../../src/model/destinations.ts';
import { plan } from '../../src/tc/plan.ts';
import { type BlastRadius, type PeerRow, blastRadius, namedDependencies } from '../../src/connections/blast.ts';
import type { Catalog } from '../../src/connections/catalog.ts';
import { depsReport, formatBlastRadius, formatDeps } from '../../src/connections/format.ts';
import { groupSockets, stateCounts } from '../../src/connections/group.ts';
import { namePeers } from '../../src/connections/names.ts';
import { type Socket, mergeTables, parseProcNet, procNetFiles } from '../../src/connections/procnet.ts';
import { collectBlastRadius, collectDeps } from '../../src/connections/collect.ts';
import { matchSnapshot } from '../support/snapshots.ts';
import { cpuMs } from '../support/cpu.ts';

function spec(env: Partial<Record<VariableName, string>>, files: Record<string, string> = {}): Spec {
  const all: Partial<Record<VariableName, string>> = { NETWORK_LATENCY: '100', ...env };
  return buildSpec({ get: (name) => (all[name] !== undefined ? { value: all[name], label: name } : undefined), readFile: (p) => files[p] ?? '' });
}

const recorded = groupSockets(mergeTables(procNetFiles.map((f) => parseProcNet(f, readFileSync(new URL(`./fixtures/conns/proc-net-${f}.txt`, import.meta.url), 'utf8'), { endianness: 'LE', where: f }))).sockets);

function sock(remote: string, port: number, localPort = 40000 + port, state: Socket['state'] = 'ESTAB'): Socket {
  const family = remote.includes(':') ? 6 : 4;
  return { proto: 'tcp', family, v6Socket: family === 6, state, inode: 1, local: { address: family === 6 ? '2001:db8::10' : '192.0.2.10', port: localPort }, remote: { address: remote, port } };
}

const verdicts = (rows: readonly PeerRow[]): string[] => rows.map((r) => `${r.address}:${r.port} ${r.verdicts.map((t) => (t.verdict.kind === 'faulted' ? `band ${t.verdict.band}` : t.verdict.why) + (r.verdicts.length > 1 ? ` x${t.sockets}` : '')).join(', ')}`);

describe('grouping the recorded sockets', () => {
  test('peers by address and port; clients by listening port; own addresses', () => {
    assert.deepEqual(recorded.outbound.map((g) => `${g.proto} ${g.address}:${g.port} ${g.sockets.length}`), [
      'tcp 127.0.0.1:7072 1', 'tcp 192.0.2.11:443 1', 'tcp 192.0.2.11:5432 1', 'tcp 192.0.2.11:8080 2', 'tcp 198.51.100.11:443 1', 'tcp 2001:db8::11:8080 1',
      'udp 192.0.2.11:53 1', 'udp 192.0.2.11:123 1', 'udp 2001:db8::11:53 1',
    ]);
    assert.deepEqual(recorded.listeners.map((l) => `${l.proto} ${l.address}:${l.port} ${l.clients.map((c) => c.address).join(',')}`), [
      'tcp 192.0.2.10:7070 ', 'tcp 2001:db8::10:7071 ', 'tcp 127.0.0.1:7072 127.0.0.1', 'tcp 0.0.0.0:8080 192.0.2.11', 'tcp :::9090 192.0.2.11,2001:db8::11',
      'udp 0.0.0.0:5353 ', 'udp :::5354 ',
    ]);
    assert.deepEqual(recorded.ownAddresses, ['127.0.0.1', '192.0.2.10', '198.51.100.10', '2001:db8::10']);
    assert.equal(recorded.total, 21);
  });
  test('socket states: the most frequent first, ties in name order (CLOSE-WAIT before CLOSING, FIN-WAIT-1 before FIN-WAIT-2)', () => {
    const states: Socket['state'][] = ['TIME-WAIT', 'CLOSING', 'ESTAB', 'CLOSE-WAIT', 'BOUND-INACTIVE', 'ESTAB', 'SYN-SENT', 'FIN-WAIT-1', 'FIN-WAIT-2', 'LAST-ACK'];
    assert.deepEqual(stateCounts(states.map((st, i) => sock('192.0.2.11', 80, 40000 + i, st))).map((c) => `${c.state} ${c.count}`), [
      'ESTAB 2', 'BOUND-INACTIVE 1', 'CLOSE-WAIT 1', 'CLOSING 1', 'FIN-WAIT-1 1', 'FIN-WAIT-2 1', 'LAST-ACK 1', 'SYN-SENT 1', 'TIME-WAIT 1',
    ]);
  });
});

describe('what the plan does to each live connection', () => {
  test('app talks to B, C and D; DESTINATION_IPS=B: B faulted (band, fault, entry), C and D untouched', () => {
    const c = groupSockets([sock('192.0.2.11', 8080), sock('192.0.2.11', 8080, 40001), sock('192.0.2.12', 8080), sock('192.0.2.13', 8080), sock('2001:db8::11', 8080)]);
    const s = spec({ DESTINATION_IPS: '192.0.2.11,2001:db8::11' });
    const br = blastRadius({ plan: plan(s), connections: c, dependencies: namedDependencies(s) });
    assert.deepEqual(verdicts(br.outbound), ['192.0.2.11:8080 band 4', '192.0.2.12:8080 no filter matches', '192.0.2.13:8080 no filter matches', '2001:db8::11:8080 band 4']);
    assert.deepEqual(br.outbound[0]?.verdicts[0], { verdict: { kind: 'faulted', band: 4, fault: '+100ms', groups: ['DESTINATION_IPS'], match: '192.0.2.11/32' }, sockets: 2 });
    assert.deepEqual(br.totals, { sockets: 5, faulted: 3, untouched: 2 });
    assert.deepEqual(br.warnings, []);
  });

  test('recorded sockets: v4-mapped peers of IPv6 sockets are matched by their IPv4 address; loopback is never faulted', () => {
    const s = spec({ DESTINATION_IPS: '192.0.2.11|5432|8080,127.0.0.1', NETWORK_LATENCY: '50' });
    const br = blastRadius({ plan: plan(s), connections: recorded, dependencies: namedDependencies(s) });
    assert.deepEqual(verdicts(br.outbound), [
      '127.0.0.1:7072 loopback', '192.0.2.11:443 no filter matches', '192.0.2.11:5432 band 4', '192.0.2.11:8080 band 4', '198.51.100.11:443 no filter matches', '2001:db8::11:8080 no filter matches',
      '192.0.2.11:53 no filter matches', '192.0.2.11:123 no filter matches', '2001:db8::11:53 no filter matches',
    ]);
    const mapped = recorded.outbound.find((g) => g.port === 5432)?.sockets[0];
    assert.equal(mapped?.v6Socket, true, 'the 5432 connection is an IPv6 socket');
  });

  test('a port exclusion splits a peer: one socket faulted, the other untouched (band 2)', () => {
    const c = groupSockets([sock('192.0.2.11', 8080, 40001), sock('192.0.2.11', 8080, 40002)]);
    const br = blastRadius({ plan: plan(spec({ DESTINATION_IPS: '192.0.2.11', SOURCE_PORTS: '!40001' })), connections: c });
    assert.deepEqual(verdicts(br.outbound), ['192.0.2.11:8080 band 4 x1, port exclusion x1']);
  });

  test('clients of a listening port: replies to them are faulted when the client\'s address is a destination', () => {
    const s = spec({ DESTINATION_IPS: '192.0.2.11', DIRECTION: 'ingress' });
    const br = blastRadius({ plan: plan(s), connections: recorded, dependencies: namedDependencies(s) });
    assert.equal(br.direction, 'ingress');
    const l8080 = br.listeners.find((l) => l.port === 8080);
    assert.deepEqual(l8080?.clients.map((x) => [x.address, x.verdicts[0]?.verdict.kind]), [['192.0.2.11', 'faulted']]);
    const l9090 = br.listeners.find((l) => l.port === 9090);
    assert.deepEqual(l9090?.clients.map((x) => [x.address, x.verdicts[0]?.verdict.kind]), [['192.0.2.11', 'faulted'], ['2001:db8::11', 'untouched']]);
  });

  test('no destination at all (the Litmus default): every connection but loopback is faulted', () => {
    const br = blastRadius({ plan: plan(spec({})), connections: recorded });
    assert.equal(br.totals.untouched, 2, 'the connection to 127.0.0.1:7072, both of its sockets');
    assert.equal(br.totals.faulted, br.totals.sockets - 2);
  });
});

describe('warnings', () => {
  const catalog: Catalog = {
    namespaces: ['shop'], problems: [], pods: [],
    services: [{ namespace: 'shop', name: 'b', clusterIPs: ['198.51.100.11'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], endpoints: [{ address: '192.0.2.11', pod: 'b-0', ports: [8080], ready: true }] }],
  };

  test('a named dependency without a live connection: typo or proxy; with a sidecar on loopback, say so', () => {
    const c = groupSockets([sock('192.0.2.11', 8080), sock('127.0.0.1', 15001)]);
    const s = spec({ DESTINATION_IPS: '192.0.2.11,192.0.2.99,198.51.100.0/24' });
    const br = blastRadius({ plan: plan(s), connections: c, dependencies: namedDependencies(s) });
    assert.deepEqual(br.warnings.map((w) => `${w.kind} ${w.subject}`), ['no-connection DESTINATION_IPS 192.0.2.99', 'no-connection DESTINATION_IPS 198.51.100.0/24']);
    assert.match(br.warnings[0]!.message, /^DESTINATION_IPS 192.0.2.99: no live connection between the target and this dependency right now: a typo, a dependency not in use at the moment, or one reached through a proxy or sidecar .* The target has 1 connection over loopback \(to 127.0.0.1:15001\): a sidecar proxy would explain it\.$/);
  });

  test('connections to the dependency on other ports than the ones given', () => {
    const c = groupSockets([sock('192.0.2.11', 8080), sock('192.0.2.11', 9090)]);
    const s = spec({ DESTINATION_IPS: '192.0.2.11|5432' });
    const br = blastRadius({ plan: plan(s), connections: c, dependencies: namedDependencies(s) });
    assert.deepEqual(br.warnings.map((w) => w.message), ['DESTINATION_IPS 192.0.2.11|5432: the target talks to it only on ports 8080, 9090, not on the port given (5432): those connections are not faulted.']);
  });

  test('the endpoints are faulted but the target talks to the ClusterIP: the filters miss it', () => {
    const c = groupSockets([sock('198.51.100.11', 80), sock('198.51.100.11', 80, 41000)]);
    const s = spec({ DESTINATION_IPS: '192.0.2.11' });
    const names = namePeers(['198.51.100.11'], { catalog });
    const br = blastRadius({ plan: plan(s), connections: c, dependencies: namedDependencies(s), catalog, names });
    assert.deepEqual(br.warnings.map((w) => `${w.kind} ${w.subject}`), ['cluster-ip shop/b', 'no-connection DESTINATION_IPS 192.0.2.11']);
    assert.equal(br.warnings[0]!.message, 'live traffic to service shop/b at its ClusterIP 198.51.100.11:80 (2 connections) is not faulted, but the filters fault its endpoint 192.0.2.11:8080 (pod b-0): the target\'s packets carry the ClusterIP, which kube-proxy translates to an endpoint only after they have left the target\'s interface. Name the Service in DESTINATION_SERVICES (it covers the ClusterIP and the endpoints) or add its ClusterIP to DESTINATION_IPS.');
    // Untargeted Services' ClusterIPs are simply untouched, without a warning.
    const other = blastRadius({ plan: plan(spec({ DESTINATION_IPS: '192.0.2.12' })), connections: c, catalog, names });
    assert.deepEqual(other.warnings, []);
    // The ClusterIP in the filters: faulted, no warning.
    const both = spec({ DESTINATION_IPS: '192.0.2.11,198.51.100.11' });
    assert.deepEqual(blastRadius({ plan: plan(both), connections: c, catalog, names }).warnings, []);
  });

  test('a Service named in DESTINATION_SERVICES: covered at its ClusterIP; talked to on another port: one warning', () => {
    const resolved: Resolved = { source: 'service shop/b', items: [{ cidr: parseCidr('x', '198.51.100.11'), ports: [80] }, { cidr: parseCidr('x', '192.0.2.11'), ports: [8080] }], details: [] };
    const s = spec({ DESTINATION_SERVICES: 'shop/b|80' });
    const index = s.groups.findIndex((g) => g.named !== undefined);
    const p = plan(s, { discovered: s.groups.map((_g, i) => (i === index ? resolved.items : [])) });
    const ok = blastRadius({ plan: p, connections: groupSockets([sock('198.51.100.11', 80)]), catalog, dependencies: namedDependencies(s, [resolved]) });
    assert.deepEqual(verdicts(ok.outbound), ['198.51.100.11:80 band 4']);
    assert.deepEqual(ok.warnings, []);
    const other = blastRadius({ plan: p, connections: groupSockets([sock('198.51.100.11', 443)]), catalog, dependencies: namedDependencies(s, [resolved]) });
    assert.deepEqual(other.warnings.map((w) => `${w.kind} ${w.subject}`), ['other-ports service shop/b']);
  });

  test('a group that names only ports: any connection to such a port counts', () => {
    const s = spec({ DESTINATION_PORTS: '5432' });
    assert.deepEqual(namedDependencies(s).map((d) => d.label), ['any address, port 5432 (all traffic)']);
    assert.deepEqual(blastRadius({ plan: plan(s), connections: groupSockets([sock('192.0.2.12', 5432)]), dependencies: namedDependencies(s) }).warnings, []);
    assert.equal(blastRadius({ plan: plan(s), connections: groupSockets([sock('192.0.2.12', 80)]), dependencies: namedDependencies(s) }).warnings.length, 1);
  });
});

describe('output', () => {
  const names = namePeers(['192.0.2.11', '198.51.100.11', '2001:db8::11', '127.0.0.1'], {
    ownAddresses: recorded.ownAddresses,
    catalog: {
      namespaces: ['shop'], problems: [], pods: [],
      services: [{ namespace: 'shop', name: 'b', clusterIPs: ['198.51.100.11'], ports: [], endpoints: [{ address: '192.0.2.11', pod: 'b-0', ports: [8080], ready: true }] }],
    },
    reverse: new Map([['2001:db8::11', { kind: 'name', names: ['b.example.org'] }]]),
  });

  test('deps: text table and JSON', () => {
    const r = depsReport({ target: 'pid 4242', source: '/proc/4242/net/{tcp,tcp6,udp,udp6}', connections: recorded, names, notes: ['list pods in shop: forbidden'] });
    matchSnapshot('deps.txt', formatDeps(r));
    const json = JSON.parse(JSON.stringify(r)) as typeof r;
    assert.deepEqual(json.outbound.find((g) => g.port === 8080 && g.family === 4), {
      proto: 'tcp', port: 8080, family: 4, address: '192.0.2.11', sockets: 2, states: [{ state: 'ESTAB', count: 2 }],
      name: { kind: 'service', namespace: 'shop', name: 'b', via: 'endpoint', pod: 'b-0' },
    });
  });

  test('plan\'s blast radius: text (faulted first) and JSON', () => {
    const s = spec({ DESTINATION_IPS: '192.0.2.11|8080,192.0.2.99', SOURCE_PORTS: '!8080' });
    const br: BlastRadius = blastRadius({ plan: plan(s), connections: recorded, names, dependencies: namedDependencies(s) });
    matchSnapshot('blast-radius.txt', formatBlastRadius(br, { target: 'pid 4242', source: '/proc/4242/net/{tcp,tcp6,udp,udp6}' }));
    const json = JSON.parse(JSON.stringify(br)) as BlastRadius;
    assert.deepEqual(json.totals, { sockets: 14, faulted: 2, untouched: 12 });
    assert.equal(json.warnings[0]?.kind, 'no-connection');
  });

  test('text lists at most 100 rows and 10 warnings of a kind; JSON has them all', () => {
    const many = Array.from({ length: 150 }, (_, i) => sock(`203.0.113.${i}`, 443));
    const ips = Array.from({ length: 30 }, (_, i) => `198.51.100.${i}`).join(',');
    const s = spec({ DESTINATION_IPS: ips });
    const br = blastRadius({ plan: plan(s), connections: groupSockets(many), dependencies: namedDependencies(s) });
    const text = formatBlastRadius(br);
    assert.match(text, /… and 50 more peers \(all of them in --output json\)/);
    assert.equal(text.split('\n').filter((l) => l.startsWith('!!! WARNING')).length, 10);
    assert.match(text, /!!! … and 20 more like this \(DESTINATION_IPS 198.51.100.10, DESTINATION_IPS 198.51.100.11, DESTINATION_IPS 198.51.100.12, …; all in --output json\)/);
    assert.equal(br.outbound.length, 150);
    assert.equal(br.warnings.length, 30);
  });
});

describe('cost', () => {
  test('4,000 connections against a plan with 10,001 entries and as many named addresses: measured 0.1-0.8 s, less than planning them', () => {
    const manyIps = Array.from({ length: 10_000 }, (_, i) => (i % 2 === 0 ? `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 0xff}.${i & 0xff}` : `2001:db8:ffff::${i.toString(16)}`));
    const s = spec({ DESTINATION_IPS: '192.0.2.11', DESTINATION_IPS_FILE: '/many' }, { '/many': manyIps.join('\n') });
    const p = plan(s);
    const sockets = Array.from({ length: 4000 }, (_, i) => sock(i % 2 === 0 ? `198.18.${(i >> 8) & 0xff}.${i & 0xff}` : `203.0.113.${i & 0xff}`, 443, 20000 + i));
    const started = cpuMs();
    const br = blastRadius({ plan: p, connections: groupSockets(sockets), dependencies: namedDependencies(s) });
    formatBlastRadius(br);
    const ms = cpuMs() - started;
    assert.equal(br.totals.faulted, 2000);
    assert.ok(br.warnings.length > 8000);
    assert.ok(ms < 4000, `${ms} ms of CPU`); // at least twice the 0.8 s measured
  });
});

describe('the entry points the commands call', () => {
  const tables = Object.fromEntries(procNetFiles.map((f) => [`/proc/4242/net/${f}`, readFileSync(new URL(`./fixtures/conns/proc-net-${f}.txt`, import.meta.url), 'utf8')]));
  const files = { readText: (p: string): string => { const t = tables[p]; if (t === undefined) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' }); return t; } };
  const noExec = () => Promise.reject(new Error('no exec for a pid'));
  const resolved: Resolved[] = [{ source: 'host payments.example.com', items: [{ cidr: parseCidr('x', '198.51.100.11'), ports: [443] }], details: [], ttlS: 30 }];

  test('collectDeps: read, group and name; the notes say what could not be looked up', async () => {
    const { report } = await collectDeps({ exec: noExec, files }, { target: { kind: 'pid', pid: 4242 }, label: 'pod shop/app-1', resolved });
    assert.equal(report.target, 'pod shop/app-1');
    assert.equal(report.sockets, 21);
    assert.deepEqual(report.outbound.find((g) => g.address === '198.51.100.11')?.name, { kind: 'host', name: 'payments.example.com', via: 'DESTINATION_HOSTS' });
    assert.deepEqual(report.outbound.find((g) => g.address === '192.0.2.11')?.name, { kind: 'unknown', why: 'not looked up' });
    assert.deepEqual(report.notes, [], 'no API and no resolver were given: nothing failed');
  });

  test('collectBlastRadius: free names only (nobody asked: no name rather than "unknown")', async () => {
    const s = spec({ DESTINATION_HOSTS: 'payments.example.com', DEPENDENCY_REFRESH: 'false' });
    const index = s.groups.findIndex((g) => g.named !== undefined);
    const p = plan(s, { discovered: s.groups.map((_g, i) => (i === index ? resolved[0]!.items : [])) });
    const { blast } = await collectBlastRadius({ exec: noExec, files }, { target: { kind: 'pid', pid: 4242 }, spec: s, plan: p, resolved });
    const row = blast.outbound.find((g) => g.address === '198.51.100.11');
    assert.equal(row?.name?.kind, 'host');
    assert.equal(row?.verdicts[0]?.verdict.kind, 'faulted');
    assert.equal(blast.outbound.find((g) => g.address === '192.0.2.11')?.name, undefined);
    assert.deepEqual(blast.warnings, []);
  });
});
