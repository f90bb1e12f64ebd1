/**
 * Naming a target's peers: Kubernetes through the API double (which namespaces and calls, RBAC failures),
 * reverse DNS through a real dnsmasq (PTR records, no record, a server that never answers), and the order
 * of the sources.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { buildSpec } from '../../src/config/spec.ts';
import type { VariableName } from '../../src/config/vars.ts';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';
import { kubeConfigFor, toKubeError } from '../../src/kube/api.ts';
import { catalogNamespaces, readCatalog } from '../../src/connections/catalog.ts';
import { apiPermissions } from '../../src/kube/permissions.ts';
import { createCatalogApi } from '../../src/connections/kube-client.ts';
import { type Connections, groupSockets } from '../../src/connections/group.ts';
import { type PeerName, clusterZones, describeName, namePeers, parseClusterName } from '../../src/connections/names.ts';
import { nameConnections } from '../../src/connections/naming.ts';
import { nodeReverseResolver, ptrName, reverseLookup } from '../../src/connections/reverse.ts';
import type { Socket } from '../../src/connections/procnet.ts';
import { ApiDouble, pod } from './kube-double.ts';
import { type Dnsmasq, freePort, haveDnsmasq, startDnsmasq } from '../support/dnsmasq.ts';

/** A connected socket from the target (192.0.2.10 / 2001:db8::10) to a peer. */
function sock(remote: string, port: number, opts: { proto?: 'tcp' | 'udp'; localPort?: number } = {}): Socket {
  const family = remote.includes(':') ? 6 : 4;
  return {
    proto: opts.proto ?? 'tcp', family, v6Socket: family === 6, state: 'ESTAB', inode: 1,
    local: { address: family === 6 ? '2001:db8::10' : '192.0.2.10', port: opts.localPort ?? 40000 + port },
    remote: { address: remote, port },
  };
}

/** The target of these tests: app (192.0.2.10) in namespace shop, talking to b, c, d and some outsiders. */
const connections: Connections = groupSockets([
  sock('198.51.100.11', 80), // Service shop/b by its ClusterIP
  sock('192.0.2.11', 8080), // b's endpoint (pod b-0)
  sock('192.0.2.12', 5432), // pod shop/c-0, no Service
  sock('192.0.2.13', 6379), // pod data/d-0: in a namespace that is listed because DESTINATION_PODS names it
  sock('203.0.113.20', 443), // a Service in another namespace: reverse DNS api.other.svc.cluster.local
  sock('2001:db8::99', 443), // reverse DNS d.example.org
  sock('203.0.113.99', 443), // nothing knows it
  sock('127.0.0.1', 15001), // a sidecar on loopback
  sock('192.0.2.44', 443), // resolved from DESTINATION_HOSTS payments.example.com
]);


const spec = (env: Partial<Record<VariableName, string>>) =>
  buildSpec({ get: (name) => (env[name] !== undefined ? { value: env[name], label: name } : undefined), readFile: () => '' });

describe('names, pure', () => {
  test('cluster DNS names read back as Services (and headless endpoints); other zones are hostnames', () => {
    assert.deepEqual(clusterZones(['shop.svc.corp.local', 'svc.corp.local', 'corp.local']), ['corp.local']);
    assert.deepEqual(clusterZones(['example.org']), ['cluster.local']);
    assert.deepEqual(parseClusterName('b.shop.svc.cluster.local', ['cluster.local']), { kind: 'service', namespace: 'shop', name: 'b', via: 'reverse DNS' });
    assert.deepEqual(parseClusterName('10-244-1-5.db.shop.svc.cluster.local', ['cluster.local']), { kind: 'service', namespace: 'shop', name: 'db', via: 'reverse DNS', pod: '10-244-1-5' });
    assert.equal(parseClusterName('b.shop.svc.cluster.local', ['corp.local']), undefined);
    assert.equal(parseClusterName('a.b.c.d.svc.cluster.local', ['cluster.local']), undefined);
  });
  test('the cheapest source wins: loopback, own address, API, DESTINATION_HOSTS, reverse DNS', () => {
    const names = namePeers(['127.0.0.1', '192.0.2.10', '198.51.100.11', '192.0.2.44', '203.0.113.20', '203.0.113.99'], {
      ownAddresses: ['192.0.2.10'],
      catalog: { namespaces: ['shop'], pods: [], problems: [], services: [{ namespace: 'shop', name: 'b', clusterIPs: ['198.51.100.11'], ports: [], endpoints: [] }] },
      hosts: new Map([['192.0.2.44', 'payments.example.com'], ['198.51.100.11', 'not-this.example.com']]),
      reverse: new Map([['203.0.113.20', { kind: 'name', names: ['api.other.svc.cluster.local'] }], ['198.51.100.11', { kind: 'name', names: ['nor-this.example.com'] }], ['203.0.113.99', { kind: 'failed', why: 'no answer within 1000 ms' }]]),
    });
    assert.deepEqual([...names.values()].map(describeName), [
      'loopback (not on the interface)', 'the target itself (stays on loopback)', 'service shop/b (ClusterIP)',
      'payments.example.com (DESTINATION_HOSTS)', 'service other/api (reverse DNS)', 'unknown (no answer within 1000 ms)',
    ]);
  });
  test('a pod IP shared by two host-network pods names neither; an endpoint adds its Service to the pod', () => {
    const names = namePeers(['192.0.2.5', '192.0.2.11', '192.0.2.12'], {
      catalog: {
        namespaces: ['shop'], problems: [],
        pods: [{ namespace: 'shop', name: 'agent-1', ips: ['192.0.2.5'], hostNetwork: true }, { namespace: 'shop', name: 'b-0', ips: ['192.0.2.11'], hostNetwork: false }, { namespace: 'shop', name: 'x', ips: ['192.0.2.12'], hostNetwork: false }, { namespace: 'shop', name: 'y', ips: ['192.0.2.12'], hostNetwork: false }],
        services: [{ namespace: 'shop', name: 'b', clusterIPs: [], ports: [], endpoints: [{ address: '192.0.2.11', pod: 'b-0', ports: [8080], ready: true }] }],
      },
    });
    assert.deepEqual([...names.values()].map(describeName), ['unknown (not looked up)', 'service shop/b (endpoint, pod b-0)', 'unknown (not looked up)']);
  });
});

describe('Kubernetes through the API double', () => {
  const api = new ApiDouble();
  before(async () => {
    await api.start();
    api.add('services', { metadata: { name: 'b', namespace: 'shop' }, spec: { type: 'ClusterIP', clusterIP: '198.51.100.11', clusterIPs: ['198.51.100.11'], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } });
    api.add('endpointslices', {
      metadata: { name: 'b-x1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'b' } }, addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['192.0.2.11'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'b-0', namespace: 'shop' } }],
    });
    api.add('pods', pod({ name: 'b-0', namespace: 'shop', node: 'node-a', ip: '192.0.2.11' }));
    api.add('pods', pod({ name: 'c-0', namespace: 'shop', node: 'node-a', ip: '192.0.2.12' }));
    api.add('pods', pod({ name: 'old', namespace: 'shop', node: 'node-a', ip: '192.0.2.13', phase: 'Succeeded' }));
    api.add('pods', pod({ name: 'd-0', namespace: 'data', node: 'node-b', ip: '192.0.2.13', labels: { app: 'd' } }));
    api.add('pods', pod({ name: 'elsewhere', namespace: 'other', node: 'node-b', ip: '203.0.113.99' }));
    kc = await kubeConfigFor({ KUBECONFIG: api.kubeconfig() });
  });
  after(async () => { await api.stop(); });
  let kc: KubeConfig;
  const catalogApi = () => createCatalogApi(kc);
  const noDns = { readText: (): string => { throw new Error('no resolv.conf in this test'); } };

  test('the target\'s namespace and the named dependencies\' namespaces, nothing else; Running pods only', async () => {
    const namespaces = catalogNamespaces(spec({ DESTINATION_PODS: 'data:[app=d]', NETWORK_LATENCY: '100' }), ['shop']);
    assert.deepEqual(namespaces, ['shop', 'data']);
    api.calls.length = 0;
    const naming = await nameConnections({ files: noDns, catalogApi }, { connections, pid: 4242, namespaces });
    const named = (a: string): string => describeName(naming.names.get(a));
    assert.equal(named('198.51.100.11'), 'service shop/b (ClusterIP)');
    assert.equal(named('192.0.2.11'), 'service shop/b (endpoint, pod b-0)');
    assert.equal(named('192.0.2.12'), 'pod shop/c-0');
    assert.equal(named('192.0.2.13'), 'pod data/d-0', 'the Succeeded pod that had the same IP is not listed');
    assert.equal(named('203.0.113.99'), 'unknown (not looked up)', 'namespace other is not listed');
    assert.deepEqual(api.calls.map((c) => `${c.verb} ${c.resource} ${c.namespace ?? ''} ${decodeURIComponent(c.query)}`).sort(), [
      'list endpointslices data ', 'list endpointslices shop ',
      'list pods data ?fieldSelector=status.phase=Running', 'list pods shop ?fieldSelector=status.phase=Running',
      'list services data ', 'list services shop ',
    ]);
    assert.deepEqual(api.unexpected, []);
    for (const c of api.calls) assert.ok(apiPermissions.some((p) => p.resource === c.resource && (p.verbs as readonly string[]).includes(c.verb)), `${c.verb} ${c.resource} is in apiPermissions (the manifests grant it)`);
  });

  test('pods are not listed when the Services name every peer', async () => {
    api.calls.length = 0;
    const only = groupSockets([sock('198.51.100.11', 80), sock('192.0.2.11', 8080)]);
    await nameConnections({ files: noDns, catalogApi }, { connections: only, pid: 4242, namespaces: ['shop'] });
    assert.deepEqual(api.calls.map((c) => `${c.verb} ${c.resource}`).sort(), ['list endpointslices', 'list services']);
  });

  test('a forbidden list is a note, and the rest still names what it can', async () => {
    // The 403 as the client gets it from an API server (the double's RBAC mode is tested in kube-double.test.ts).
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, details: { kind: 'pods' },
      message: 'pods is forbidden: User "system:serviceaccount:litmus:netchaos" cannot list resource "pods" in API group "" in the namespace "shop"' };
    const real = await catalogApi();
    const refusing = { ...real, listRunningPods: (namespace: string) => Promise.reject(toKubeError(new ApiException(403, 'Forbidden', JSON.stringify(status), {}), { resource: 'pods', verb: 'list', namespace })) };
    const naming = await nameConnections({ files: noDns, catalogApi: () => Promise.resolve(refusing) }, { connections, pid: 4242, namespaces: ['shop'] });
    assert.equal(describeName(naming.names.get('198.51.100.11')), 'service shop/b (ClusterIP)');
    assert.equal(describeName(naming.names.get('192.0.2.12')), 'unknown (not looked up)');
    assert.equal(naming.notes.length, 1);
    assert.match(naming.notes[0]!, /^list pods in shop: Kubernetes API refused to list pods in namespace shop: forbidden \(403, RBAC\)\. Give the runner's service account the verb "list" on "pods"/);
  });

  test('no API at all: nothing is listed, nothing fails', async () => {
    const naming = await nameConnections({ files: noDns }, { connections, pid: 4242, namespaces: ['shop'] });
    assert.equal(describeName(naming.names.get('192.0.2.12')), 'unknown (not looked up)');
    assert.equal(describeName(naming.names.get('127.0.0.1')), 'loopback (not on the interface)');
  });

  test('an API server that does not answer: each list gives up at its deadline', async () => {
    const silent = (await import('node:net')).createServer(() => { /* accept, never answer */ });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const kc = await kubeConfigFor({ KUBECONFIG: api.kubeconfig() });
    kc.clusters[0] = { ...kc.clusters[0]!, server: `http://127.0.0.1:${port}` };
    const started = Date.now();
    const catalog = await readCatalog(await createCatalogApi(kc, 300), ['shop']);
    const ms = Date.now() - started;
    silent.close();
    assert.ok(ms < 3000, `${ms} ms`);
    assert.equal(catalog.problems.length, 3);
    assert.match(catalog.problems[0]!, /list services in shop: cannot reach the Kubernetes API to list services in namespace shop: no answer within 300 ms/);
  });
});

const available = haveDnsmasq();
describe('reverse DNS against dnsmasq', { skip: available ? false : 'dnsmasq is not installed (apt-get install dnsmasq-base)' }, () => {
  let server: Dnsmasq | undefined;
  let port = 0;
  before(async () => {
    server = await startDnsmasq([
      'api.other.svc.cluster.local,203.0.113.20',
      'd.example.org,2001:db8::99',
      'b-0.b.shop.svc.cluster.local,192.0.2.11',
    ], async (p) => {
      const r = nodeReverseResolver(p)({ timeoutMs: 500 });
      r.setServers(['127.0.0.1']);
      await r.reverse('203.0.113.20');
    });
    port = server.port;
  });
  after(() => { server?.stop(); });

  const resolvConf = 'nameserver 127.0.0.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:2\n';
  const files = { readText: (p: string): string => { if (p === '/proc/4242/root/etc/resolv.conf') return resolvConf; throw new Error(`ENOENT ${p}`); } };

  test('PTR records through the target\'s resolv.conf: hostnames, cluster Services; unknown when there is none', async () => {
    const naming = await nameConnections({ files, reverse: nodeReverseResolver(port) }, { connections, pid: 4242, namespaces: [], hosts: new Map([['192.0.2.44', 'payments.example.com']]) });
    const named = (a: string): PeerName | undefined => naming.names.get(a);
    assert.deepEqual(named('203.0.113.20'), { kind: 'service', namespace: 'other', name: 'api', via: 'reverse DNS' });
    assert.deepEqual(named('2001:db8::99'), { kind: 'host', name: 'd.example.org', via: 'reverse DNS' });
    assert.deepEqual(named('192.0.2.11'), { kind: 'service', namespace: 'shop', name: 'b', via: 'reverse DNS', pod: 'b-0' });
    assert.deepEqual(named('203.0.113.99'), { kind: 'unknown', why: 'no reverse DNS record' });
    assert.deepEqual(named('192.0.2.44'), { kind: 'host', name: 'payments.example.com', via: 'DESTINATION_HOSTS' }, 'no PTR query for what the run resolved');
    assert.deepEqual(naming.notes, []);
  });

  test('the API first, reverse DNS only for what it left unnamed', async () => {
    const api = new ApiDouble();
    await api.start();
    try {
      api.add('pods', pod({ name: 'c-0', namespace: 'shop', node: 'node-a', ip: '192.0.2.12' }));
      const asked: string[] = [];
      const counting = (o: { timeoutMs: number }) => {
        const r = nodeReverseResolver(port)(o);
        return { ...r, reverse: (a: string) => { asked.push(a); return r.reverse(a); } };
      };
      const naming = await nameConnections(
        { files, reverse: counting, catalogApi: async () => createCatalogApi(await kubeConfigFor({ KUBECONFIG: api.kubeconfig() })) },
        { connections, pid: 4242, namespaces: ['shop'] },
      );
      assert.equal(describeName(naming.names.get('192.0.2.12')), 'pod shop/c-0');
      assert.ok(!asked.includes('192.0.2.12') && !asked.includes('127.0.0.1'), `asked ${asked.join(', ')}`);
      assert.ok(asked.includes('203.0.113.99'));
    } finally {
      await api.stop();
    }
  });

  test('PTR query names', () => {
    assert.equal(ptrName('203.0.113.20'), '20.113.0.203.in-addr.arpa');
    assert.equal(ptrName('2001:db8::99'), '9.9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  });

  test('a nameserver that refuses (nothing listens) is not "no record"', async () => {
    const closed = await freePort();
    const answers = await reverseLookup(['203.0.113.20'], { nameservers: ['127.0.0.1'], timeoutS: 1 }, nodeReverseResolver(closed));
    assert.deepEqual([...answers.values()], [{ kind: 'failed', why: 'ECONNREFUSED' }]);
  });

  test('a nameserver that never answers: bounded by the per-query timeout and the overall deadline', async (t) => {
    const sink = createSocket('udp4');
    await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
    t.after(() => { sink.close(); });
    const silent = sink.address().port;
    const started = Date.now();
    const answers = await reverseLookup(['203.0.113.20', '203.0.113.21', '203.0.113.22'], { nameservers: ['127.0.0.1'], timeoutS: 5 }, nodeReverseResolver(silent), { queryTimeoutMs: 300, deadlineMs: 2000 });
    const ms = Date.now() - started;
    assert.ok(ms < 2500, `${ms} ms`); // the 2 s deadline and some slack: 0.9 s measured on a loaded machine (three queries at once)
    assert.deepEqual([...answers.values()], Array(3).fill({ kind: 'failed', why: 'no answer within 300 ms' }));
    const capped = await reverseLookup(['203.0.113.20', '203.0.113.21', '203.0.113.22'], { nameservers: ['127.0.0.1'], timeoutS: 5 }, nodeReverseResolver(silent), { queryTimeoutMs: 5000, deadlineMs: 300, max: 2, concurrency: 1 });
    assert.ok(Date.now() - started - ms < 2500);
    assert.deepEqual([...capped.values()].map((a) => a.kind === 'skipped' || a.kind === 'failed' ? a.why : a.kind), ['more than 2 peers: not looked up', 'reverse DNS deadline passed', 'reverse DNS deadline passed']);
  });
});
