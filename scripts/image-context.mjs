// Reads the security context the ChaosExperiment asks for (experiments/pod-dependency-latency/experiment.yaml:
// spec.definition.hostPID and .securityContext.containerSecurityContext) and prints the podman flags that give
// a container the same: one flag per line, then `# ` lines that say what each came from. scripts/image.sh runs
// the image with them, so a change to the manifest's capabilities is what the image check runs with.
// Exits 1 when the manifest asks for something the check must not grant (privileged) or cannot map.
// Usage: node scripts/image-context.mjs [experiment.yaml]
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const file = process.argv[2] ?? new URL('../experiments/pod-dependency-latency/experiment.yaml', import.meta.url).pathname;
const fail = (msg) => {
  process.stderr.write(`image-context: ${file}: ${msg}\n`);
  process.exit(1);
};

const doc = parse(readFileSync(file, 'utf8'));
const def = doc?.spec?.definition;
if (typeof def !== 'object' || def === null) fail('no spec.definition');
const sc = def.securityContext?.containerSecurityContext;
if (typeof sc !== 'object' || sc === null) fail('no spec.definition.securityContext.containerSecurityContext');

const flags = [];
const notes = [];
const known = new Set(['capabilities', 'runAsUser', 'readOnlyRootFilesystem', 'seccompProfile', 'privileged', 'allowPrivilegeEscalation', 'runAsNonRoot']);
for (const k of Object.keys(sc)) if (!known.has(k)) fail(`containerSecurityContext.${k} is not mapped to a podman flag yet (scripts/image-context.mjs)`);

if (sc.privileged === true) fail('containerSecurityContext.privileged is true: the image check runs without --privileged, as the issue asks');
notes.push('privileged: not set → no --privileged');

for (const k of ['hostNetwork', 'hostIPC']) {
  if (def[k] === true) fail(`spec.definition.${k} is not mapped to a podman flag yet (scripts/image-context.mjs)`);
}
if (def.hostPID === true) {
  flags.push('--pid=host');
  notes.push('hostPID: true → --pid=host');
} else {
  notes.push('hostPID: not set → a private PID namespace');
}

const isList = (x) => Array.isArray(x) && x.every((c) => typeof c === 'string' && /^[A-Z_]+$/.test(c));
const caps = sc.capabilities ?? {};
if (caps.drop !== undefined && !isList(caps.drop)) fail('capabilities.drop is not a list of capability names');
if (caps.add !== undefined && !isList(caps.add)) fail('capabilities.add is not a list of capability names');
for (const c of caps.drop ?? []) flags.push(`--cap-drop=${c === 'ALL' ? 'all' : c}`);
for (const c of caps.add ?? []) flags.push(`--cap-add=${c}`);
notes.push(`capabilities: drop ${JSON.stringify(caps.drop ?? [])}, add ${JSON.stringify(caps.add ?? [])}`);

if (sc.runAsUser !== undefined) {
  if (!Number.isInteger(sc.runAsUser) || sc.runAsUser < 0) fail(`runAsUser ${JSON.stringify(sc.runAsUser)} is not a uid`);
  flags.push(`--user=${sc.runAsUser}`);
  notes.push(`runAsUser: ${sc.runAsUser} → --user=${sc.runAsUser}`);
}
if (sc.runAsNonRoot === true) fail('runAsNonRoot: true is not mapped (netchaos needs uid 0)');
if (sc.readOnlyRootFilesystem === true) {
  // Kubernetes mounts nothing writable over a read-only root; podman would add tmpfs on /tmp, /run, /var/tmp.
  flags.push('--read-only', '--read-only-tmpfs=false');
  notes.push('readOnlyRootFilesystem: true → --read-only --read-only-tmpfs=false (no tmpfs: Kubernetes adds none)');
}
if (sc.allowPrivilegeEscalation === false) {
  flags.push('--security-opt=no-new-privileges');
  notes.push('allowPrivilegeEscalation: false → --security-opt=no-new-privileges');
}
const seccomp = sc.seccompProfile?.type;
if (seccomp === undefined || seccomp === 'RuntimeDefault') {
  notes.push(`seccompProfile: ${seccomp ?? 'not set'} → podman's default seccomp profile`);
} else if (seccomp === 'Unconfined') {
  flags.push('--security-opt=seccomp=unconfined');
  notes.push('seccompProfile: Unconfined → --security-opt=seccomp=unconfined');
} else {
  fail(`seccompProfile.type ${JSON.stringify(seccomp)} is not mapped`);
}

process.stdout.write(flags.map((f) => `${f}\n`).join('') + notes.map((n) => `# ${n}\n`).join(''));
