/**
 * Safe under faults (issue 12, part A): every external wait has its own deadline and follows the run's stop
 * (a Kubernetes API that accepts and never answers, a DNS server that never answers: real sockets), the fault
 * never goes into the node's namespace, and what the API or DNS hands over is one host address.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { createKubeApi } from '../../src/kube/api.ts';
import { selectTargets, targetPod } from '../../src/kube/targets.ts';
import { parseResolvConf, resolveHosts, MAX_DNS_ATTEMPTS, MAX_DNS_TIMEOUT_S } from '../../src/resolve/dns.ts';
import { nodeResolver } from '../../src/resolve/node-dns.ts';
import { readInRoot } from '../../src/host/files.ts';
import { parseHostAddress } from '../../src/model/addresses.ts';
import { RefusedError, UsageErrors } from '../../src/model/errors.ts';
import { Stop } from '../../src/model/stop.ts';
import { preflight } from '../../src/lifecycle/preflight.ts';
import { EffectMeasure } from '../../src/effect/measure.ts';
import { plan } from '../../src/tc/plan.ts';
import { specOf } from '../support/spec.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { fakeDeps } from '../support/fake-ports.ts';
import type { EffectProber, KubeApi } from '../../src/ports.ts';
import type { LitmusSpec } from '../../src/model/litmus.ts';

const elapsed = async (p: Promise<unknown>): Promise<{ ms: number; error: unknown }> => {
  const t0 = Date.now();
  try {
    await p;
    return { ms: Date.now() - t0, error: undefined };
  } catch (error) {
    return { ms: Date.now() - t0, error };
  }
};
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

describe('a Kubernetes API that accepts the connection and never answers', () => {
  let server: Server;
  const open = new Set<Socket>();
  let closed = 0;
  let dir = '';
  let kubeconfig = '';
  before(async () => {
    server = createServer((s) => {
      open.add(s);
      s.on('data', () => {}); // read the request, never answer
      s.on('close', () => { open.delete(s); closed++; });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    dir = mkdtempSync(join(tmpdir(), 'netchaos-hang-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
`);
    await import('@kubernetes/client-node'); // loaded once: the timings below are the calls'
  });
  after(async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a call without the run\'s signal ends at its own deadline with an error that says so (measured ~0.3 s for a 0.3 s deadline)', async () => {
    const api = createKubeApi({ KUBECONFIG: kubeconfig }, 300);
    const r = await elapsed(api.getService('shop', 'b'));
    assert.match(messageOf(r.error), /cannot reach the Kubernetes API to get services "b" in namespace shop: no answer within 0.3 s/);
    assert.ok(r.ms >= 250 && r.ms < 3000, `ended after ${r.ms} ms`);
  });

  test('the run\'s stop ends the call at once and closes its connection (the request is aborted, not abandoned)', async () => {
    const api = createKubeApi({ KUBECONFIG: kubeconfig }, 60_000);
    const stop = new Stop();
    const before0 = closed;
    const call = elapsed(api.listPods('shop', { signal: stop.signal }));
    while (open.size === 0) await new Promise((r) => setTimeout(r, 10));
    setTimeout(() => { stop.receive('SIGTERM'); }, 100);
    const r = await call;
    assert.match(messageOf(r.error), /list pods in namespace shop: not waited for, the run is stopping/);
    assert.ok(r.ms < 2000, `ended ${r.ms} ms after the call (the stop came at 100 ms)`);
    for (let i = 0; i < 100 && closed === before0; i++) await new Promise((res) => setTimeout(res, 10));
    assert.ok(closed > before0, 'the hung connection was closed by the abort');
  });
});

describe('a DNS server that never answers (a real UDP socket), with a resolv.conf asking for timeout:30 attempts:5', () => {
  let dead: UdpSocket;
  let port = 0;
  let queries = 0;
  before(async () => {
    dead = createSocket('udp4');
    dead.on('message', () => { queries++; });
    await new Promise<void>((resolve) => dead.bind(0, '127.0.0.1', resolve));
    port = dead.address().port;
  });
  after(() => { dead.close(); });
  const conf = () => parseResolvConf('nameserver 127.0.0.1\nsearch shop.svc.cluster.local\noptions ndots:5 timeout:30 attempts:5\n');

  test('the conf\'s timeout and attempts are capped (glibc\'s defaults: 5 s, 2 attempts)', () => {
    assert.deepEqual([conf().timeoutS, conf().attempts], [MAX_DNS_TIMEOUT_S, MAX_DNS_ATTEMPTS]);
    assert.deepEqual([MAX_DNS_TIMEOUT_S, MAX_DNS_ATTEMPTS], [5, 2]);
  });

  test('one lookup ends at its own deadline, naming the host and the nameserver', async () => {
    const r = await elapsed(resolveHosts([{ host: 'api', ports: [] }], nodeResolver(port), { conf: conf(), where: '/proc/42/root/etc/resolv.conf', deadlineMs: 400 }));
    assert.match(messageOf(r.error), /DESTINATION_HOSTS api: the nameserver\(s\) 127.0.0.1 from \/proc\/42\/root\/etc\/resolv.conf did not answer for api.shop.svc.cluster.local \(ETIMEOUT\)/);
    assert.ok(r.ms >= 350 && r.ms < 3000, `ended after ${r.ms} ms`);
    assert.ok(queries > 0, 'the server was asked');
  });

  test('the run\'s stop ends the lookup at once', async () => {
    const stop = new Stop();
    setTimeout(() => { stop.receive('SIGTERM'); }, 100);
    const r = await elapsed(resolveHosts([{ host: 'api', ports: [] }], nodeResolver(port), { conf: conf(), where: 'resolv.conf', signal: stop.signal }));
    assert.match(messageOf(r.error), /resolving api.shop.svc.cluster.local: not waited for, the run is stopping/);
    assert.ok(r.ms < 2000, `ended ${r.ms} ms after the lookup started (the stop came at 100 ms)`);
  });
});

describe('the target\'s resolv.conf is read inside its root', () => {
  test('an absolute symlink resolves in the target\'s root, never in the runner\'s filesystem; `..` stops at the root', () => {
    const root = mkdtempSync(join(tmpdir(), 'netchaos-root-'));
    try {
      mkdirSync(join(root, 'etc'));
      mkdirSync(join(root, 'run', 'systemd', 'resolve'), { recursive: true });
      writeFileSync(join(root, 'run', 'systemd', 'resolve', 'stub-resolv.conf'), 'nameserver 10.96.0.10\n');
      // What the kernel would follow into the runner's own /run (or fail on): an absolute target.
      symlinkSync('/run/systemd/resolve/stub-resolv.conf', join(root, 'etc', 'resolv.conf'));
      assert.equal(readInRoot(root, '/etc/resolv.conf'), 'nameserver 10.96.0.10\n');
      symlinkSync('../../../../../../../run/systemd/resolve/stub-resolv.conf', join(root, 'etc', 'up.conf'));
      assert.equal(readInRoot(root, '/etc/up.conf'), 'nameserver 10.96.0.10\n');
      symlinkSync('/etc/loop', join(root, 'etc', 'loop'));
      assert.throws(() => readInRoot(root, '/etc/loop'), /ELOOP/);
      symlinkSync('/nowhere', join(root, 'etc', 'dangling'));
      assert.throws(() => readInRoot(root, '/etc/dangling'), /ENOENT/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('addresses from the API and DNS are single hosts', () => {
  test('a CIDR is refused (0.0.0.0/0 would be every destination)', () => {
    assert.throws(() => parseHostAddress('pods shop:[app=db]', '0.0.0.0/0'), /pods shop:\[app=db\].*"0.0.0.0\/0" is a network \(CIDR\), not one host address/);
    assert.throws(() => parseHostAddress('service shop/api', '10.244.1.0/24'), /not one host address/);
  });
  test('::ffff:a.b.c.d is the IPv4 host it maps (the packets are IPv4)', () => {
    assert.deepEqual(parseHostAddress('pods shop:[app=db]', '::ffff:10.244.1.9'), { family: 4, address: '10.244.1.9', prefix: 32 });
  });
  test('::a.b.c.d (deprecated IPv4-compatible) is refused; ::, ::1 and ordinary IPv6 are kept', () => {
    assert.throws(() => parseHostAddress('service shop/b', '::192.0.2.11'), /deprecated IPv4-compatible IPv6 address.*192\.0\.2\.11/);
    assert.deepEqual(parseHostAddress('x', '::1'), { family: 6, address: '::1', prefix: 128 });
    assert.deepEqual(parseHostAddress('x', '2001:db8::11'), { family: 6, address: '2001:db8::11', prefix: 128 });
    assert.deepEqual(parseHostAddress('x', '64:ff9b::c000:20b'), { family: 6, address: '64:ff9b::c000:20b', prefix: 128 });
  });
});

describe('values below tc\'s resolution', () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      specOf(env);
    } catch (error) {
      if (error instanceof UsageErrors) return error.errors.map((e) => e.message);
      throw error;
    }
    return [];
  };
  for (const [env, re] of [
    [{ NETWORK_LATENCY: '0.0001' }, /NETWORK_LATENCY.*0.0001 ms is below tc's resolution \(1 µs/],
    [{ NETWORK_LATENCY: '0', NETWORK_PACKET_LOSS_PERCENTAGE: '0.00001' }, /NETWORK_PACKET_LOSS_PERCENTAGE.*below the resolution netchaos gives tc \(0.0001 %\)/],
    [{ NETWORK_LATENCY: '0', NETWORK_BANDWIDTH: '0.0000001bit' }, /NETWORK_BANDWIDTH.*below tc's resolution \(1 byte\/s = 8bit\)/],
    [{ NETWORK_LATENCY: '0', NETWORK_BANDWIDTH: '0.5bps' }, /below tc's resolution/],
    [{ FAULTS: 'latency=0.0004@192.0.2.11' }, /FAULTS.*latency.*below tc's resolution/],
  ] as const) {
    test(`${JSON.stringify(env)} is refused (exit 2): tc would apply it as nothing`, () => {
      const got = problems(env);
      assert.ok(got.some((m) => re.test(m)), `no message matches ${re}; got:\n${got.join('\n')}`);
    });
  }
  test('the smallest values tc can apply are accepted', () => {
    assert.deepEqual(problems({ NETWORK_LATENCY: '0.001' }), []);
    assert.deepEqual(problems({ NETWORK_LATENCY: '0', NETWORK_PACKET_LOSS_PERCENTAGE: '0.0001' }), []);
    assert.deepEqual(problems({ NETWORK_LATENCY: '0', NETWORK_BANDWIDTH: '8bit' }), []);
  });
});

describe('the node\'s own namespace is never a target', () => {
  const spec = { interface: 'eth0', force: false };
  test('a target whose namespace is PID 1\'s is refused before anything is read or changed', async () => {
    const ns = new FakeNetns();
    const f = fakeDeps(ns, { nsId: (p) => (p === '/proc/1/ns/net' || p === '/proc/4242/ns/net' ? 'net:[4026531840]' : 'net:[4026532999]') });
    await assert.rejects(preflight(f.deps, { spec, netns: { kind: 'pid', pid: 4242 }, emit: () => {} }),
      (e: unknown) => e instanceof RefusedError && /is the node's own network namespace \(net:\[4026531840\], the same as PID 1's \/proc\/1\/ns\/net\)/.test(e.message) && /Nothing was changed/.test(e.message));
    assert.deepEqual(ns.tcOps, []);
  });
  test('a target whose namespace is the runner\'s own is refused', async () => {
    const ns = new FakeNetns();
    const f = fakeDeps(ns, { nsId: (p) => (p === '/proc/self/ns/net' || p === '/var/run/netns/x' ? 'net:[4026532500]' : 'net:[4026531840]') });
    await assert.rejects(preflight(f.deps, { spec, netns: { kind: 'netns', path: '/var/run/netns/x' }, emit: () => {} }), /this runner's own network namespace/);
    assert.deepEqual(ns.tcOps, []);
  });
  test('another namespace passes (and an unreadable PID 1, without hostPID, is no match)', async () => {
    const f = fakeDeps(new FakeNetns(), { nsId: (p) => (p === '/proc/4242/ns/net' ? 'net:[4026532001]' : p === '/proc/self/ns/net' ? 'net:[4026532500]' : undefined) });
    await preflight(f.deps, { spec, netns: { kind: 'pid', pid: 4242 }, emit: () => {} });
  });

  // Raw JSON, as the API hands it over.
  const hostPod = (hostNetwork: boolean, name = 'kube-proxy-x'): V1Pod => JSON.parse(JSON.stringify({
    metadata: { name, namespace: 'kube-system', uid: name },
    spec: { nodeName: 'node-a', hostNetwork, containers: [{ name: 'app' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', containerID: `containerd://${'a'.repeat(64)}`, ready: true, restartCount: 0, image: '', imageID: '', state: { running: {} } }] },
  })) as V1Pod;
  test('a hostNetwork pod is refused where pods become targets, whichever pods the percentage draws', async () => {
    assert.throws(() => targetPod(hostPod(true), undefined), (e: unknown) => e instanceof RefusedError && /pod kube-system\/kube-proxy-x runs with hostNetwork: true: its network namespace is node node-a's own/.test(e.message));
    assert.equal(targetPod(hostPod(false), undefined).name, 'kube-proxy-x');
    const kube = { listPods: async () => { await Promise.resolve(); return [hostPod(false, 'a'), hostPod(true, 'b')]; } } as unknown as KubeApi;
    const l = {
      targets: [{ kind: 'pod', namespace: 'kube-system', pods: { kind: 'names', names: ['a', 'b'] } }], targetPods: [], nodeLabel: undefined,
      podsAffected: { min: 1, max: 1 }, nodeName: 'node-a', helperMode: 'never', targetContainer: undefined,
    } as unknown as LitmusSpec;
    const f = fakeDeps(new FakeNetns(), { kube });
    await assert.rejects(selectTargets({ ...f.deps, random: () => 0 }, l), /kube-system\/b runs with hostNetwork: true/);
  });
});

describe('the revert never waits long for an effect probe', () => {
  test('a chaos-window probe still running (huge latency) is ended at most DURING_OVERRUN_MS after the window', async () => {
    let aborted = false;
    const prober: EffectProber = {
      probe: (_n, req, signal) => (req.budgetMs > 5000
        ? new Promise((_resolve, reject) => { signal?.addEventListener('abort', () => { aborted = true; reject(new Error('probe killed')); }); })
        : Promise.resolve({})),
      counters: async () => { await Promise.resolve(); return []; },
    };
    const s = specOf({ NETWORK_LATENCY: '3600000', DESTINATION_IPS: '192.0.2.11|8080', MEASURE_EFFECT: 'true' });
    const f = fakeDeps(new FakeNetns());
    const m = EffectMeasure.create({ ...f.deps, prober }, { spec: s, plan: plan(s, {}), netns: { kind: 'pid', pid: 4242 } });
    assert.ok(m);
    m.startDuring();
    await m.endDuring(); // the fake clock runs the 10 s at once: endDuring returns instead of waiting an hour
    await new Promise((r) => setImmediate(r));
    assert.ok(aborted, 'the probe was ended');
    assert.ok(m.report().notes.some((n) => /still running 10 s after the window ended: it was ended so that the revert does not wait for it/.test(n)), JSON.stringify(m.report().notes));
  });
});
