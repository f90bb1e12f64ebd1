// `netchaos deps` and the blast-radius section of `netchaos plan`, through the composition root, on the
// recorded /proc/<pid>/net tables of test/unit/fixtures/conns (the same ones blast.test.ts parses).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { run } from '../../src/cli/main.ts';
import type { Host, PeerNaming } from '../../src/cli/host.ts';
import type { CatalogApi } from '../../src/connections/catalog.ts';
import type { ReverseFactory } from '../../src/connections/reverse.ts';
import { procNetFiles } from '../../src/connections/procnet.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { FakeSignals, fakeDeps } from '../support/fake-ports.ts';

const tables: Record<string, string> = {
  ...Object.fromEntries(procNetFiles.map((f) => [`/proc/4242/net/${f}`, readFileSync(new URL(`./fixtures/conns/proc-net-${f}.txt`, import.meta.url), 'utf8')])),
  '/proc/4242/root/etc/resolv.conf': 'nameserver 192.0.2.53\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\n',
};

/** Services of `shop`: b, ClusterIP 198.51.100.11, endpoint 192.0.2.11 (pod b-0). */
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- the V1* classes are plain data holders: the API's JSON is what the real client returns too */
function fakeCatalog(calls: string[]): CatalogApi {
  return {
    listServices: (ns) => { calls.push(`list services ${ns}`); return Promise.resolve(ns !== 'shop' ? [] : [{ metadata: { name: 'b', namespace: 'shop' }, spec: { clusterIP: '198.51.100.11', clusterIPs: ['198.51.100.11'], ports: [{ name: 'https', port: 443 }] } }]); },
    listEndpointSlices: (ns) => {
      calls.push(`list endpointslices ${ns}`);
      return Promise.resolve(ns !== 'shop' ? [] : [{ metadata: { name: 'b-1', labels: { 'kubernetes.io/service-name': 'b' } }, addressType: 'IPv4', ports: [{ port: 8080 }], endpoints: [{ addresses: ['192.0.2.11'], targetRef: { kind: 'Pod', name: 'b-0' } }] }]);
    },
    listRunningPods: (ns) => { calls.push(`list pods ${ns}`); return Promise.resolve([]); },
  };
}
/* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */

/** PTR answers: 2001:db8::11 → b.example.org; everything else has no record. */
function fakeReverse(asked: string[]): ReverseFactory {
  return () => ({
    setServers: () => {},
    reverse: (address) => {
      asked.push(address);
      return address === '2001:db8::11' ? Promise.resolve(['b.example.org.']) : Promise.reject(Object.assign(new Error('no record'), { code: 'ENOTFOUND' }));
    },
    cancel: () => {},
  });
}

async function cli(argv: string[], env: Record<string, string> = {}, o: { naming?: PeerNaming; ns?: FakeNetns } = {}) {
  let stdout = '';
  let stderr = '';
  const f = fakeDeps(o.ns ?? new FakeNetns(), { readText: (p) => tables[p] });
  const host: Host = { ...f.host, signals: new FakeSignals(), ...(o.naming ? { peerNaming: o.naming } : {}) };
  const code = await run(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, env }, () => host);
  return { code, stdout, stderr };
}

describe('netchaos deps', () => {
  test('lists the peers by address and port, named by the Services of PEER_NAMESPACES and by reverse DNS with the target\'s resolver', async () => {
    const calls: string[] = [];
    const asked: string[] = [];
    const r = await cli(['deps', '--pid', '4242', '--peer-namespaces', 'shop'], {}, { naming: { reverse: fakeReverse(asked), catalogApi: () => Promise.resolve(fakeCatalog(calls)) } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Connections of pid 4242: 21 sockets \(read from \/proc\/4242\/net\/\{tcp,tcp6,udp,udp6\}\)/);
    assert.match(r.stdout, /tcp\s+192\.0\.2\.11\s+8080\s+2\s+ESTAB 2\s+service shop\/b \(endpoint, pod b-0\)/);
    assert.match(r.stdout, /tcp\s+198\.51\.100\.11\s+443\s+1\s+ESTAB\s+service shop\/b \(ClusterIP\)/);
    assert.match(r.stdout, /tcp\s+\[2001:db8::11\]\s+8080\s+1\s+ESTAB\s+b\.example\.org \(reverse DNS\)/);
    assert.deepEqual(calls.sort(), ['list endpointslices shop', 'list pods shop', 'list services shop']);
    assert.deepEqual(asked, ['2001:db8::11'], 'only the address no Service names is looked up');
  });

  test('--output json: every row with its name; no naming ports: peers are "not looked up"', async () => {
    const r = await cli(['deps', '--pid', '4242', '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { target: string; sockets: number; outbound: { address: string; port: number; proto: string; name: { kind: string } | null }[]; listeners: unknown[] };
    assert.equal(out.target, 'pid 4242');
    assert.equal(out.sockets, 21);
    assert.equal(out.outbound.length, 9);
    assert.deepEqual(out.outbound.find((g) => g.address === '192.0.2.11' && g.port === 8080 && g.proto === 'tcp')?.name, { kind: 'unknown', why: 'not looked up' });
    assert.equal(out.listeners.length, 7);
  });

  test('bad input exits 2 before anything is read: no target, two targets, a bad namespace', async () => {
    const none = await cli(['deps']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give --pid <PID>, --netns <PATH>, --pid-file <PATH> or --container-id <ID>; or, for the pods of a Litmus experiment, TARGETS/);
    assert.equal((await cli(['deps', '--pid', '1', '--netns', '/run/netns/x'])).code, 2);
    const bad = await cli(['deps', '--pid', '4242'], { PEER_NAMESPACES: 'Shop_1' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /PEER_NAMESPACES: "Shop_1" is not a valid namespace/);
  });

  test('a process that is gone: exit 1 and the reason', async () => {
    const r = await cli(['deps', '--pid', '999']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read \/proc\/999\/net\/tcp .*is process 999 still running/);
  });
});

describe('netchaos plan: the blast radius', () => {
  const args = ['plan', '--pid', '4242', '--destination-ips', '192.0.2.11|8080,192.0.2.99', '--latency', '100'];

  test('each live connection faulted (band, fault) or untouched; a named dependency without a connection is warned about', async () => {
    const r = await cli(args);
    assert.equal(r.code, 0, r.stderr);
    const section = r.stdout.slice(r.stdout.indexOf('Blast radius:'));
    assert.match(section, /^Blast radius: the live connections of pid 4242 \(read from \/proc\/4242\/net\/\{tcp,tcp6,udp,udp6\}\), egress/);
    assert.match(section, /2 of 14 connections will be faulted, 12 untouched\./);
    assert.match(section, /tcp\s+192\.0\.2\.11\s+8080\s+2 .*FAULTED band 4: \+100ms ← DESTINATION_IPS \(192\.0\.2\.11\/32 dport 8080\)/);
    assert.match(section, /tcp\s+192\.0\.2\.11\s+5432\s+1 .*untouched \(no filter matches\)/);
    assert.match(section, /!!! WARNING: DESTINATION_IPS 192\.0\.2\.99: no live connection/);
  });

  test('a Service ClusterIP the filters miss: warned when PEER_NAMESPACES lists its namespace (Services only, no pods)', async () => {
    const calls: string[] = [];
    const r = await cli(['plan', '--pid', '4242', '--destination-ips', '192.0.2.11', '--latency', '100', '--peer-namespaces', 'shop'], {},
      { naming: { reverse: fakeReverse([]), catalogApi: () => Promise.resolve(fakeCatalog(calls)) } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /!!! WARNING: live traffic to service shop\/b at its ClusterIP 198\.51\.100\.11:443 \(1 connection\) is not faulted, but the filters fault its endpoint 192\.0\.2\.11:8080 \(pod b-0\)/);
    assert.deepEqual(calls.sort(), ['list endpointslices shop', 'list services shop']);
  });

  test('--output json carries the section; BLAST_RADIUS=false leaves it out; a table that cannot be read is said, plan goes on', async () => {
    const json = JSON.parse((await cli([...args, '--output', 'json'])).stdout) as { blastRadius?: { target: string; radius: { totals: { sockets: number; faulted: number } } } };
    assert.deepEqual([json.blastRadius?.target, json.blastRadius?.radius.totals], ['pid 4242', { sockets: 14, faulted: 2, untouched: 12 }]);
    const off = await cli(args, { BLAST_RADIUS: 'false' });
    assert.equal(off.code, 0);
    assert.doesNotMatch(off.stdout, /Blast radius/);
    const gone = await cli(['plan', '--pid', '999', '--destination-ips', '192.0.2.11']);
    assert.equal(gone.code, 0, gone.stderr);
    assert.match(gone.stdout, /Blast radius of pid 999: not available: cannot read \/proc\/999\/net\/tcp/);
  });

  test('the sockets are read while the root qdisc is: a failed qdisc read is the error reported, as before the section ran alongside', async () => {
    const ns = new FakeNetns();
    const r = await cli(['plan', '--pid', '4242', '--interface', 'eth9', '--destination-ips', '192.0.2.11'], {}, { ns });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /interface "eth9" does not exist in pid 4242/);
    assert.doesNotMatch(r.stdout, /Blast radius/);
    assert.deepEqual(ns.calls.map((c) => c.op), ['qdiscs']);
    // The same with no socket table to read (both reads fail): still the qdisc's error, and nothing left unhandled.
    const both = await cli(['plan', '--pid', '999', '--interface', 'eth9', '--destination-ips', '192.0.2.11'], {}, { ns: new FakeNetns() });
    assert.equal(both.code, 1);
    assert.match(both.stderr, /interface "eth9" does not exist in pid 999/);
  });
});
