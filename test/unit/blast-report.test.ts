// Litmus mode's blast radius before the chaos (src/litmus/blast-report.ts): the ChaosResult status field and
// the pre-chaos Event, from the recorded /proc/<pid>/net tables of test/unit/fixtures/conns.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildSpec } from '../../src/config/spec.ts';
import type { VariableName } from '../../src/config/vars.ts';
import type { Spec } from '../../src/model/spec.ts';
import { plan } from '../../src/tc/plan.ts';
import { procNetFiles } from '../../src/connections/procnet.ts';
import { type BlastStatus, reportBlastRadius, reportHelperBlast } from '../../src/litmus/blast-report.ts';
import type { KubeApi } from '../../src/ports.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { fakeDeps, refusingKube } from '../support/fake-ports.ts';

const tables: Record<string, string> = Object.fromEntries(procNetFiles.map((f) => [`/proc/4242/net/${f}`, readFileSync(new URL(`./fixtures/conns/proc-net-${f}.txt`, import.meta.url), 'utf8')]));

function spec(env: Partial<Record<VariableName, string>>): Spec {
  const all: Partial<Record<VariableName, string>> = { NETWORK_LATENCY: '100', ...env };
  return buildSpec({ get: (name) => (all[name] !== undefined ? { value: all[name], label: name } : undefined), readFile: () => '' });
}

function setup(env: Partial<Record<VariableName, string>>, failPatch = false) {
  const patches: { namespace: string; name: string; patch: object }[] = [];
  const kube: KubeApi = { ...refusingKube('only patchChaosResult'), patchChaosResult: (namespace, name, patch) => {
    if (failPatch) return Promise.reject(new Error('forbidden'));
    patches.push({ namespace, name, patch }); return Promise.resolve();
  } };
  const f = fakeDeps(new FakeNetns(), { readText: (p) => tables[p], kube });
  const events: { reason: string; message: string; type: string | undefined }[] = [];
  const reporter = { namespace: 'litmus', name: 'lab-chaos-pod-dependency-latency', event: (_on: 'engine' | 'result', reason: string, message: string, type?: 'Normal' | 'Warning') => { events.push({ reason, message, type }); } };
  const s = spec(env);
  const pod = (name: string, pid: number) => ({ target: { pod: { namespace: 'shop', name, node: 'n1', uid: 'u', container: 'app', containerId: 'containerd://x' }, netns: { kind: 'pid' as const, pid }, plan: plan(s), resolved: [] } });
  return { f, s, patches, events, reporter, pod };
}

describe('Litmus mode: the blast radius before the chaos', () => {
  test('ChaosResult status.netchaosBlastRadius.<pod> and a BlastRadius Event: faulted rows first, the warnings', async () => {
    const { f, s, patches, events, reporter, pod } = setup({ DESTINATION_IPS: '192.0.2.11|8080,192.0.2.99' });
    await reportBlastRadius(f.deps, s, [pod('app-1', 4242).target], reporter);
    assert.equal(patches.length, 1);
    assert.equal(patches[0]?.name, 'lab-chaos-pod-dependency-latency');
    const st = (patches[0]?.patch as { status: { netchaosBlastRadius: Record<string, BlastStatus> } }).status.netchaosBlastRadius['app-1'];
    assert.deepEqual(st?.totals, { connections: 14, faulted: 2, untouched: 12 });
    assert.equal(st?.connections?.[0], 'tcp 192.0.2.11:8080 ×2: FAULTED band 4 +100ms (DESTINATION_IPS)');
    assert.ok(st?.connections?.includes('tcp 192.0.2.11:5432 ×1: untouched (no filter matches)'));
    assert.match(st?.warnings[0] ?? '', /^DESTINATION_IPS 192\.0\.2\.99: no live connection/);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.reason, 'BlastRadius');
    assert.equal(events[0]?.type, 'Warning');
    assert.match(events[0]?.message ?? '', /^shop\/app-1: 2 of 14 live connections will be faulted \(192\.0\.2\.11:8080\), 12 untouched; 1 warning\(s\): DESTINATION_IPS 192\.0\.2\.99/);
    assert.ok((events[0]?.message.length ?? 0) <= 1000);
    assert.ok(f.lines.some((l) => l.event === 'blast-radius' && l.pod === 'shop/app-1'), 'logged too');
  });

  test('a pod whose tables cannot be read: said in the status and the Event; a failed patch is only logged; BLAST_RADIUS=false: nothing', async () => {
    const { f, s, events, reporter, pod } = setup({ DESTINATION_IPS: '192.0.2.11' }, true);
    await reportBlastRadius(f.deps, s, [pod('gone-1', 999).target], reporter);
    assert.match(events[0]?.message ?? '', /^shop\/gone-1: blast radius not available: cannot read \/proc\/999\/net\/tcp/);
    assert.ok(f.lines.some((l) => /could not write the blast radius/.test(l.msg)));
    const off = setup({ DESTINATION_IPS: '192.0.2.11', BLAST_RADIUS: 'false' });
    await reportBlastRadius(off.f.deps, off.s, [off.pod('app-1', 4242).target], off.reporter);
    assert.deepEqual([off.events, off.patches], [[], []]);
  });

  test('a helper\'s blast radius: its own targets only (by namespace/name), with the node; one Event for the node; a target left out is logged', () => {
    const { f } = setup({});
    const events: { reason: string; message: string; type: string | undefined }[] = [];
    const written: Record<string, BlastStatus>[] = [];
    const reporter = { event: (_on: 'engine' | 'result', reason: string, message: string, type?: 'Normal' | 'Warning') => { events.push({ reason, message, type }); }, setBlastRadius: (s: Readonly<Record<string, BlastStatus>>) => { written.push({ ...s }); } };
    const t = (name: string) => ({ namespace: 'shop', name, node: 'node-b', uid: 'u', container: 'app', containerId: 'containerd://x' });
    const st: BlastStatus = { totals: { connections: 3, faulted: 1, untouched: 2 }, connections: ['tcp 192.0.2.11:8080 ×1: FAULTED band 4 +100ms (DESTINATION_IPS)'], warnings: [], notes: [] };
    reportHelperBlast(f.deps.log, 'node-b', [t('app-1'), t('app-2')], { 'shop/app-1': st, 'other/app-9': st }, reporter);
    assert.deepEqual(written, [{ 'app-1': { ...st, node: 'node-b' } }]);
    assert.deepEqual(events, [{ reason: 'BlastRadius', message: 'read on node node-b before the chaos: shop/app-1: 1 of 3 live connections will be faulted (192.0.2.11:8080), 2 untouched', type: 'Normal' }]);
    assert.ok(f.lines.some((l) => /other\/app-9, which is not one of its targets: ignored/.test(l.msg)));
    assert.ok(f.lines.some((l) => /blast radius of shop\/app-2: left out of the helper's result/.test(l.msg)));
  });
});
