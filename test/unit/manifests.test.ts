/**
 * The shipping files (experiments/, chartserviceversion/, docs/variables.md, README's variables table)
 * against the project's own model: the variable table, the API calls the code makes, package.json.
 * Needs nothing outside the repository (the CRD check is npm run check:crds).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { variables } from '../../src/config/vars.ts';
import { apiPermissions, capabilities, capabilitiesFor } from '../../src/kube/permissions.ts';
import {
  CATEGORY, FAULT, IMAGE_REPOSITORY, SERVICE_ACCOUNT, type PolicyRule,
  accessSet, codeRules, experimentDir, files, generated, manifestEnv, packageVersion, repoPath,
} from '../../scripts/manifests.ts';
import { END, START, fillMarkers, generatedDocs, renderVariablesTable } from '../../scripts/docs.ts';
import { makeAjv, validateAgainst, withPruningAsErrors } from '../../scripts/check-crds.ts';
import { assembleHub } from '../../scripts/hub.ts';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call */
const load = (path: string): any => parse(readFileSync(path, 'utf8'));
const loadAll = (path: string): any[] => {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  return (Array.isArray(docs) ? docs : []).map((d) => d.toJS());
};
const experiment = load(files.experiment);
const def = experiment.spec.definition;
const engine = load(files.engine);
const rbac = loadAll(files.rbac);
const scc = loadAll(files.scc);
const version = packageVersion();
const find = (docs: any[], kind: string, name: string): any => {
  const found = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
};

/** Variables the Litmus chaos-runner sets itself (litmuschaos/chaos-runner pkg/utils/environment.go,
 * engineHelper.go, builders.go). It applies the ChaosExperiment's env AFTER them, so listing one in the
 * experiment, even with "", overwrites the real value (TARGETS, CHAOSENGINE, …) for every run. */
const setByChaosRunner = [
  'CHAOSENGINE', 'TARGETS', 'CHAOS_NAMESPACE', 'AUXILIARY_APPINFO', 'CHAOS_UID', 'EXPERIMENT_NAME',
  'LIB_IMAGE_PULL_POLICY', 'TERMINATION_GRACE_PERIOD_SECONDS', 'DEFAULT_HEALTH_CHECK', 'CHAOS_SERVICE_ACCOUNT',
  'STATUS_CHECK_DELAY', 'STATUS_CHECK_TIMEOUT', 'JOB_CLEANUP_POLICY', 'POD_NAME',
];

describe('generated files are current', () => {
  for (const g of [...generated(), ...generatedDocs()]) {
    test(`${g.path.slice(repoPath('').length)} (npm run manifests / npm run docs)`, () => {
      assert.equal(g.current, g.expected, `${g.path} is not current: run npm run manifests && npm run docs, and review the diff`);
    });
  }
});

describe('every YAML file parses', () => {
  const dirs = [experimentDir, repoPath('chartserviceversion')];
  for (const dir of dirs) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
      test(name, () => {
        const docs = parseAllDocuments(readFileSync(join(dir, name), 'utf8'));
        for (const d of Array.isArray(docs) ? docs : []) assert.deepEqual(d.errors.map(String), []);
      });
    }
  }
});

describe('ChaosExperiment', () => {
  test('env = the variable table (manifest: true, table order, value = default)', () => {
    assert.deepEqual(def.env, manifestEnv());
    const names = def.env.map((e: { name: string }) => e.name);
    assert.deepEqual(names, variables.filter((v) => v.manifest).map((v) => v.env));
  });
  test('env does not overwrite what the chaos-runner sets', () => {
    const clobbered = def.env.map((e: { name: string }) => e.name).filter((n: string) => setByChaosRunner.includes(n));
    assert.deepEqual(clobbered, [], `set manifest: false for ${clobbered.join(', ')} in src/config/vars.ts: the chaos-runner provides them, and the experiment's env would overwrite its values`);
  });
  test('env values the code needs from the pod itself come from the downward API', () => {
    const nodeName = def.env.find((e: { name: string }) => e.name === 'NODE_NAME');
    if (nodeName) assert.deepEqual(nodeName.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } }, 'NODE_NAME must be valueFrom spec.nodeName (add fieldRef: \'spec.nodeName\' to its row in src/config/vars.ts)');
  });
  test('permissions = the API calls the code makes (src/kube/permissions.ts)', () => {
    assert.deepEqual(accessSet(def.permissions), accessSet(codeRules()));
    assert.equal(def.scope, apiPermissions.some((p) => p.clusterScoped) ? 'Cluster' : 'Namespaced');
  });
  test('names, labels, image, command', () => {
    assert.equal(experiment.kind, 'ChaosExperiment');
    assert.equal(experiment.metadata.name, FAULT);
    assert.equal(experiment.metadata.labels.name, FAULT);
    assert.equal(experiment.metadata.labels['app.kubernetes.io/version'], version);
    assert.deepEqual(def.labels, {
      name: FAULT,
      'app.kubernetes.io/part-of': 'litmus',
      'app.kubernetes.io/component': 'experiment-job',
      'app.kubernetes.io/runtime-api-usage': 'true',
      'app.kubernetes.io/version': version,
    });
    assert.equal(def.image, `${IMAGE_REPOSITORY}:${version}`);
    assert.ok(['Always', 'IfNotPresent', 'Never'].includes(def.imagePullPolicy));
    // No shell: netchaos must be PID 1 to get SIGTERM and revert.
    assert.deepEqual(def.command, ['netchaos']);
    assert.deepEqual(def.args, ['run']);
  });
  test('privileges: hostPID and exactly the capabilities the code needs, not privileged', () => {
    assert.equal(def.hostPID, true);
    const sc = def.securityContext.containerSecurityContext;
    assert.notEqual(sc.privileged, true);
    assert.deepEqual(sc.capabilities, { drop: ['ALL'], add: [...capabilities] });
    assert.equal(sc.allowPrivilegeEscalation, undefined, 'Kubernetes rejects allowPrivilegeEscalation: false with CAP_SYS_ADMIN');
    assert.equal(def.securityContext.podSecurityContext, undefined);
  });
  test('the runtime socket is mounted where the engine says it is', () => {
    const socket = def.hostFileVolumes.find((v: { name: string }) => v.name === 'runtime-socket');
    assert.ok(socket);
    assert.equal(socket.mountPath, socket.nodePath);
    const engineSocket = engine.spec.experiments[0].spec.components.env.find((e: { name: string }) => e.name === 'SOCKET_PATH');
    assert.equal(engineSocket?.value, socket.mountPath);
  });
});

describe('RBAC', () => {
  const rulesOf = (d: { rules: PolicyRule[] }): PolicyRule[] => d.rules;
  test('Role + ClusterRole named after the fault grant exactly the ChaosExperiment permissions', () => {
    const role = find(rbac, 'Role', FAULT);
    const helpers = find(rbac, 'Role', `${FAULT}-helpers`);
    const clusterRole = find(rbac, 'ClusterRole', FAULT);
    assert.deepEqual(accessSet([...rulesOf(role), ...rulesOf(helpers), ...rulesOf(clusterRole)]), accessSet(def.permissions));
    assert.deepEqual(accessSet([...rulesOf(role), ...rulesOf(helpers)]), accessSet(codeRules(apiPermissions, false)));
    assert.deepEqual(accessSet(rulesOf(clusterRole)), accessSet(codeRules(apiPermissions, true)));
  });
  test('least privilege: the Role for target/dependency namespaces only reads (pods list, services get and list, endpointslices list); pod creation and exec (helper pods, cmdProbe source pods) are in the helpers Role alone', () => {
    const targets = find(rbac, 'Role', `${FAULT}-targets`);
    assert.deepEqual(accessSet(rulesOf(targets)), ['/pods:list', '/services:get', '/services:list', 'discovery.k8s.io/endpointslices:list']);
    assert.deepEqual(accessSet(rulesOf(find(rbac, 'Role', `${FAULT}-helpers`))), ['/pods/exec:create', '/pods:create', '/pods:delete', '/pods:get']);
    assert.ok(!accessSet(rulesOf(find(rbac, 'Role', FAULT))).some((a) => a.endsWith(':create') && a.startsWith('/pods')), 'the main Role cannot create pods');
  });
  test('capabilities per setting: SYS_CHROOT only for the systemd dead-man, NET_RAW only for the ping probes', () => {
    assert.deepEqual(capabilitiesFor({ deadman: 'process', measureEffect: false }), ['NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE']);
    assert.deepEqual(capabilitiesFor({ deadman: 'systemd', measureEffect: false }), ['NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE', 'SYS_CHROOT']);
    assert.deepEqual(capabilitiesFor({ deadman: 'off', measureEffect: true }), ['NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE', 'NET_RAW']);
    assert.deepEqual(capabilitiesFor({ deadman: 'auto', measureEffect: true }), [...capabilities]);
  });
  test('the bindings give every role (the targets Role is the one to copy to other namespaces) to the engine\'s ServiceAccount, in its namespace', () => {
    const ns = engine.metadata.namespace;
    assert.equal(engine.spec.chaosServiceAccount, SERVICE_ACCOUNT);
    assert.equal(find(rbac, 'ServiceAccount', SERVICE_ACCOUNT).metadata.namespace, ns);
    const bindings = rbac.filter((d) => d.kind === 'RoleBinding' || d.kind === 'ClusterRoleBinding');
    assert.deepEqual(bindings.map((b) => `${b.kind}→${b.roleRef.kind}/${b.roleRef.name}`).sort(), [
      `ClusterRoleBinding→ClusterRole/${FAULT}`, `RoleBinding→Role/${FAULT}`, `RoleBinding→Role/${FAULT}-helpers`, `RoleBinding→Role/${FAULT}-runner`, `RoleBinding→Role/${FAULT}-targets`,
    ]);
    for (const b of bindings) {
      assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: ns }]);
      if (b.kind === 'RoleBinding') assert.equal(b.metadata.namespace, ns);
    }
  });
  test('no wildcard and no write access beyond ChaosResult, Events, helper pods (and the runner\'s job)', () => {
    for (const d of rbac.filter((x) => x.rules)) {
      for (const a of accessSet(d.rules)) assert.doesNotMatch(a, /\*/);
    }
    const writes = accessSet(def.permissions).filter((a) => /:(create|update|patch|delete)/.test(a));
    // pods create/delete: one helper pod per node for targets on other nodes (HELPER_MODE), in the Role's namespace only.
    // pods/exec and chaosengines patch: resilience probes (a cmdProbe's probe pod; stopOnFailure sets engineState: stop, as litmus-go).
    assert.deepEqual(writes, ['/events:create', '/pods/exec:create', '/pods:create', '/pods:delete', 'litmuschaos.io/chaosengines:patch', 'litmuschaos.io/chaosresults:create', 'litmuschaos.io/chaosresults:patch']);
  });
});

describe('OpenShift SCC', () => {
  const c = find(scc, 'SecurityContextConstraints', FAULT);
  test('allows what the experiment asks for and nothing privileged', () => {
    assert.equal(c.allowPrivilegedContainer, false);
    assert.equal(c.allowHostPID, def.hostPID);
    assert.equal(c.allowHostNetwork, false);
    assert.equal(c.allowHostIPC, false);
    assert.equal(c.allowHostPorts, false);
    assert.equal(c.allowHostDirVolumePlugin, true);
    assert.deepEqual(c.allowedCapabilities, def.securityContext.containerSecurityContext.capabilities.add);
    assert.deepEqual(c.runAsUser, { type: 'MustRunAs', uid: def.securityContext.containerSecurityContext.runAsUser });
    assert.equal(c.seLinuxContext.seLinuxOptions.type, 'spc_t');
    assert.deepEqual(c.users, []);
  });
  test('only the experiment\'s ServiceAccount may use it', () => {
    const role = find(scc, 'Role', `${FAULT}-scc`);
    assert.deepEqual(role.rules, [{ apiGroups: ['security.openshift.io'], resources: ['securitycontextconstraints'], resourceNames: [FAULT], verbs: ['use'] }]);
    const binding = find(scc, 'RoleBinding', `${FAULT}-scc`);
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: engine.metadata.namespace }]);
  });
});

describe('sample ChaosEngine', () => {
  const exp = engine.spec.experiments[0];
  test('runs this fault with dependencies by IP, host and Service; no nodeSelector (ChaosCenter keeps components as they are: a sample node name would leave the runner Pending)', () => {
    assert.equal(engine.kind, 'ChaosEngine');
    assert.equal(exp.name, FAULT);
    assert.equal(exp.spec.components.nodeSelector, undefined, 'components.nodeSelector');
    assert.ok(engine.spec.appinfo.applabel);
    const env = new Map<string, string>(exp.spec.components.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    for (const name of ['DESTINATION_IPS', 'DESTINATION_HOSTS', 'DESTINATION_SERVICES', 'NETWORK_LATENCY']) assert.ok(env.get(name), name);
  });
  test('every env name is a manifest variable of the table', () => {
    const known = new Set(variables.filter((v) => v.manifest).map((v) => v.env));
    for (const e of exp.spec.components.env) assert.ok(known.has(e.name), `${e.name} is not a manifest variable in src/config/vars.ts`);
  });
});

describe('ChaosHub files', () => {
  const faultCsv = load(files.faultCsv);
  const categoryCsv = load(files.categoryCsv);
  const pkg = load(files.packageYaml);
  test('names and versions agree', () => {
    assert.equal(faultCsv.metadata.name, FAULT);
    assert.equal(faultCsv.metadata.version, version);
    assert.equal(faultCsv.metadata.annotations.categories, CATEGORY);
    assert.equal(categoryCsv.metadata.name, CATEGORY);
    assert.deepEqual(categoryCsv.spec.faults.map((f: { name: string }) => f.name), [FAULT]);
    assert.equal(pkg.packageName, CATEGORY);
    assert.deepEqual(pkg.faults, [{ name: FAULT, CSV: `${FAULT}.chartserviceversion.yaml`, desc: FAULT }]);
  });
  test('the fault CSV says what is new and lists OpenShift', () => {
    for (const word of ['per dependency', 'IPv6', 'plan', 'revert']) assert.match(faultCsv.spec.categoryDescription, new RegExp(word, 'i'));
    assert.ok(faultCsv.spec.platforms.includes('OpenShift'));
    assert.match(faultCsv.spec.minKubeVersion, /^\d+\.\d+\.\d+$/);
    // PNG first, as the stock chaos-charts CSVs carry it; the SVG after it.
    assert.deepEqual(faultCsv.spec.icon.map((i: { mediatype: string }) => i.mediatype), ['image/png', 'image/svg+xml']);
    assert.match(readFileSync(files.icon, 'utf8'), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });
  test('npm run hub assembles the folder ChaosCenter reads', () => {
    const out = mkdtempSync(join(tmpdir(), 'netchaos-hub-'));
    try {
      const c = `faults/${CATEGORY}`;
      assert.deepEqual(assembleHub(out), [
        'README.md',
        `${c}/icons/${CATEGORY}.svg`, `${c}/icons/${FAULT}.svg`, `${c}/icons/${CATEGORY}.png`, `${c}/icons/${FAULT}.png`,
        `${c}/${CATEGORY}.chartserviceversion.yaml`, `${c}/${CATEGORY}.package.yaml`,
        `${c}/${FAULT}/${FAULT}.chartserviceversion.yaml`, `${c}/${FAULT}/engine.yaml`, `${c}/${FAULT}/fault.yaml`,
        `${c}/${FAULT}/openshift-scc.yaml`, `${c}/${FAULT}/rbac.yaml`,
      ].sort());
      assert.equal(readFileSync(join(out, c, FAULT, 'fault.yaml'), 'utf8'), readFileSync(files.experiment, 'utf8'));
      // ChaosCenter's UI asks for icons/<fault>.png (chaoscenter/web/src/views/ChaosHub/ChaosFaults/ChaosFaults.tsx): a real PNG.
      const png = readFileSync(join(out, c, 'icons', `${FAULT}.png`));
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128], 'IHDR width and height');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('variables docs', () => {
  test('the table has one row per variable, in table order', () => {
    const rows = renderVariablesTable().split('\n').filter((l) => l.startsWith('| `')).map((l) => /^\| `([A-Z0-9_]+)`/.exec(l)?.[1]);
    assert.deepEqual(rows, variables.map((v) => v.env));
  });
  test('fillMarkers replaces only what is between the markers, and leaves text without markers alone', () => {
    assert.equal(fillMarkers('a\nb\n', 'T'), 'a\nb\n');
    assert.equal(fillMarkers(`x\n${START}\nold\n${END}\ny\n`, 'T'), `x\n${START}\nT\n${END}\ny\n`);
  });
});

describe('CRD check (Kubernetes schema dialect)', () => {
  const crd = {
    group: 'example.io', kind: 'Thing', versions: ['v1'],
    schema: {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' },
        spec: {
          type: 'object',
          properties: {
            strict: { type: 'object', properties: { a: { type: 'string' } } },
            open: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' } } },
            size: { 'x-kubernetes-int-or-string': true },
            n: { type: 'integer', format: 'int32' },
          },
        },
      },
    },
  };
  const check = (spec: unknown, name = 'ok'): string[] => validateAgainst(makeAjv(), crd, { apiVersion: 'example.io/v1', kind: 'Thing', metadata: { name }, spec });
  test('valid objects pass', () => { assert.deepEqual(check({ strict: { a: 'x' }, open: { b: 1 }, size: '1Gi', n: 3 }), []); });
  test('fields the API server would prune are errors; preserve-unknown-fields keeps them', () => {
    assert.match(check({ strict: { b: 1 } }).join(), /unknown field "b"/);
    assert.deepEqual(check({ open: { b: 1 } }), []);
  });
  test('int-or-string, int32 and metadata.name are enforced', () => {
    assert.equal(check({ size: 2 }).length, 0);
    assert.ok(check({ size: 1.5 }).length > 0);
    assert.ok(check({ n: 2 ** 31 }).length > 0);
    assert.ok(check({}, 'Bad_Name').length > 0);
  });
  test('pruning rule is added only where Kubernetes prunes', () => {
    const s: any = withPruningAsErrors(crd.schema);
    assert.equal(s.properties.spec.properties.strict.additionalProperties, false);
    assert.equal(s.properties.spec.properties.open.additionalProperties, undefined);
    assert.equal(s.properties.metadata.additionalProperties, undefined);
  });
});
