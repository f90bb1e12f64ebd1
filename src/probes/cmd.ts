/**
 * cmdProbe (litmus-go pkg/probe/cmdprobe.go).
 *
 * Inline: the command runs in the experiment pod, i.e. as a child of this process, in its own network
 * namespace. It is a shell script by definition (the ChaosEngine's `command` is one string; litmus-go runs
 * `/bin/sh -c <command>` and the Litmus docs' probes use pipes), so it goes to /bin/sh as a single argv
 * element: netchaos never builds a shell string. The only dynamic part, a `{{ .<probe>.ProbeArtifacts.
 * Register }}` template, becomes `${NETCHAOS_PROBE_<probe>}` and the value travels in the environment,
 * so a registered output can never be run as code (litmus-go pastes it into the script).
 * The process gets its own process group and the whole group is killed at the attempt's deadline.
 *
 * Source: the command runs in a probe pod created from `source` (image, env, volumes…), through the pods/exec
 * API (WebSocket), as `/bin/sh -c <command>` (with `env NAME=value` in front when it uses templates).
 *
 * Judgement (triggerInlineCmdProbe/triggerSourceCmdProbe): a non-zero exit is a probe *error*
 * (CMD_PROBE_ERROR, the experiment ends Error), as litmus-go ("unable to run command"); the trimmed stdout
 * is compared with the comparator (a mismatch is a *failure*) and, on success, registered for templates.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { DynamicKube, KubeObject, PodExec, ResourceRef } from '../kube/dynamic.js';
import { compare } from './comparator.js';
import { type Outcome, fail, messageOf, pass, probeError } from './outcome.js';
import { type CmdProbeSpec, type SourceSpec, artifactVariable, renderTemplate } from './spec.js';

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** The command as a script reading templates from the environment, and that environment. */
export function commandWithArtifacts(p: CmdProbeSpec, artifacts: ReadonlyMap<string, string>): { script: string; env: Record<string, string> } {
  const env: Record<string, string> = {};
  const script = renderTemplate(p.command, (name) => {
    env[artifactVariable(name)] = artifacts.get(name) ?? '';
    return `\${${artifactVariable(name)}}`;
  });
  return { script, env };
}

/**
 * Runs `shell -c script` as a child process in its own process group; the group is killed with SIGKILL
 * when `signal` aborts (then this rejects with the AbortError).
 */
export function runShell(shell: string, script: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(abortReason(signal)); return; }
    const child = spawn(shell, ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outSize = 0;
    let errSize = 0;
    child.stdout.on('data', (c: Buffer) => { if (outSize < MAX_OUTPUT) { out.push(c); outSize += c.length; } });
    child.stderr.on('data', (c: Buffer) => { if (errSize < MAX_OUTPUT) { err.push(c); errSize += c.length; } });
    const kill = (): void => {
      if (child.pid !== undefined) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
      }
    };
    const onAbort = (): void => { kill(); };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(new Error(`cannot run ${shell}: ${error.message}`));
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) { reject(abortReason(signal)); return; }
      resolve({ exitCode: code ?? (sig ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

const short = (text: string): string => {
  const t = text.trim();
  return t.length > 500 ? `${t.slice(0, 500)}…` : t;
};

/** Judges a finished command as litmus-go does. */
export function judgeCommand(p: CmdProbeSpec, r: CommandResult, where: string): { outcome: Outcome; register?: string } {
  if (r.exitCode !== 0) {
    const output = short(r.stderr) || short(r.stdout);
    return { outcome: probeError('cmdProbe', `the command ${where}exited with code ${r.exitCode}${output ? `: ${output}` : ''} (a cmdProbe command must exit 0; its output is what is compared)`) };
  }
  const actual = r.stdout.trim();
  const c = compare(p.comparator, actual);
  const evaluation = { actual, expected: p.comparator.value, criteria: p.comparator.criteria };
  if (!c.ok) {
    const stderr = short(r.stderr);
    return { outcome: fail('cmdProbe', `${c.reason}${stderr ? `; stderr: ${stderr}` : ''}`, evaluation) };
  }
  return { outcome: pass(`Actual value: '${short(actual)}'. Expected value: ${p.comparator.criteria} '${p.comparator.value}'`, evaluation), register: actual };
}

/** What a source cmdProbe needs to know about the run. */
export interface ProbePodContext {
  readonly chaosNamespace: string;
  readonly experimentName: string;
  readonly chaosUid: string;
  /** This runner's pod (POD_NAME): its service account, and its env when inheritInputs is set. */
  readonly podName: string;
  /** LIB_IMAGE_PULL_POLICY (litmus-go's default "Always") when `source.imagePullPolicy` is unset. */
  readonly imagePullPolicy: string;
  readonly statusCheckDelayMs: number;
  readonly statusCheckTimeoutMs: number;
}

const PODS = (namespace: string): ResourceRef => ({ group: '', version: 'v1', resource: 'pods', namespace });

/** litmus-go's run ids: 6 lowercase letters or digits. */
export function runId(random: () => number = () => (randomBytes(1)[0] ?? 0) / 256): string {
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 6 }, () => abc[Math.floor(random() * abc.length)] ?? 'x').join('');
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The probe pod, as pkg/probe/cmdprobe.go createProbePod builds it. */
export function probePodManifest(o: { name: string; container: string; source: SourceSpec; ctx: ProbePodContext; runner: KubeObject | undefined }): KubeObject {
  const { source, ctx, runner } = o;
  const runnerSpec = isRecord(runner?.['spec']) ? runner['spec'] : {};
  const runnerMeta = isRecord(runner?.['metadata']) ? runner['metadata'] : {};
  const containers = Array.isArray(runnerSpec['containers']) ? runnerSpec['containers'].filter(isRecord) : [];
  const labels = isRecord(runnerMeta['labels']) ? runnerMeta['labels'] : {};
  // inheritInputs: the experiment container's env (the container named like the job-name label), then the source's
  const expContainer = containers.find((c) => c['name'] === labels['job-name']) ?? containers[0];
  const inherited = source.inheritInputs && Array.isArray(expContainer?.['env']) ? expContainer['env'].filter(isRecord) : [];
  const resources = isRecord(expContainer?.['resources']) ? expContainer['resources'] : undefined;
  const serviceAccountName = typeof runnerSpec['serviceAccountName'] === 'string' ? runnerSpec['serviceAccountName'] : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: ctx.chaosNamespace,
      labels: { name: o.name, chaosUID: ctx.chaosUid, ...source.labels },
      ...(Object.keys(source.annotations).length > 0 ? { annotations: source.annotations } : {}),
    },
    spec: {
      restartPolicy: 'Never',
      ...(source.hostNetwork ? { hostNetwork: true } : {}),
      ...(serviceAccountName ? { serviceAccountName } : {}),
      ...(source.volumes.length > 0 ? { volumes: source.volumes } : {}),
      ...(Object.keys(source.nodeSelector).length > 0 ? { nodeSelector: source.nodeSelector } : {}),
      ...(source.tolerations.length > 0 ? { tolerations: source.tolerations } : {}),
      ...(source.imagePullSecrets.length > 0 ? { imagePullSecrets: source.imagePullSecrets } : {}),
      containers: [{
        name: o.container,
        image: source.image,
        imagePullPolicy: source.imagePullPolicy ?? ctx.imagePullPolicy,
        command: source.command && source.command.length > 0 ? source.command : ['/bin/sh'],
        args: source.args && source.args.length > 0 ? source.args : ['-c', 'sleep 10000'],
        ...(resources ? { resources } : {}),
        ...(inherited.length + source.env.length > 0 ? { env: [...inherited, ...source.env] } : {}),
        securityContext: { privileged: source.privileged },
        ...(source.volumeMounts.length > 0 ? { volumeMounts: source.volumeMounts } : {}),
      }],
    },
  };
}

export interface Sleeper {
  readonly now: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Why a pod is not ready yet (undefined: Running and the container ready); `final`: it never will be. */
export function podReadiness(pod: KubeObject, container: string): { final: boolean; reason: string } | undefined {
  const status = isRecord(pod['status']) ? pod['status'] : {};
  const phase = typeof status['phase'] === 'string' ? status['phase'] : 'Unknown';
  if (phase === 'Failed' || phase === 'Succeeded') return { final: true, reason: `the probe pod ended (phase ${phase})` };
  const statuses = Array.isArray(status['containerStatuses']) ? status['containerStatuses'].filter(isRecord) : [];
  const cs = statuses.find((c) => c['name'] === container);
  const waiting = isRecord(cs?.['state']) && isRecord(cs['state']['waiting']) ? cs['state']['waiting'] : undefined;
  if (waiting && typeof waiting['reason'] === 'string' && ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError'].includes(waiting['reason'])) {
    return { final: false, reason: `container ${container} is waiting: ${waiting['reason']}${typeof waiting['message'] === 'string' ? ` (${waiting['message']})` : ''}` };
  }
  if (phase !== 'Running') return { final: false, reason: `phase ${phase}` };
  if (!cs) return { final: false, reason: `container ${container} has no status yet` };
  if (cs['ready'] !== true) return { final: false, reason: `container ${container} is not ready` };
  return undefined;
}

/** A probe pod: created, waited for, exec'd into, deleted (on every path: see ProbeSet.close). */
export class ProbePod {
  readonly name: string;
  readonly container: string;
  private created = false;

  constructor(
    private readonly kube: DynamicKube,
    private readonly exec: PodExec,
    private readonly ctx: ProbePodContext,
    private readonly clock: Sleeper,
    id: string,
  ) {
    this.name = `${ctx.experimentName}-probe-${id}`;
    this.container = `${ctx.experimentName}-probe`;
  }

  /** Creates the pod and waits until it runs (STATUS_CHECK_DELAY/TIMEOUT, as litmus-go). */
  async start(source: SourceSpec, signal: AbortSignal): Promise<void> {
    const ref = PODS(this.ctx.chaosNamespace);
    const runner = this.ctx.podName ? await this.kube.get(ref, this.ctx.podName, { signal }) : undefined;
    if (this.ctx.podName && !runner) throw new Error(`this runner's pod ${this.ctx.chaosNamespace}/${this.ctx.podName} (POD_NAME) was not found: the probe pod takes its service account from it`);
    const body = probePodManifest({ name: this.name, container: this.container, source, ctx: this.ctx, runner });
    await this.kube.create(ref, body, { signal });
    this.created = true;
    const deadline = this.clock.now() + this.ctx.statusCheckTimeoutMs;
    let last = 'not read yet';
    for (;;) {
      const pod = await this.kube.get(ref, this.name, { signal });
      if (!pod) throw new Error(`probe pod ${this.ctx.chaosNamespace}/${this.name} disappeared before it ran`);
      const why = podReadiness(pod, this.container);
      if (why === undefined) return;
      if (why.final) throw new Error(`probe pod ${this.ctx.chaosNamespace}/${this.name}: ${why.reason}`);
      last = why.reason;
      if (this.clock.now() >= deadline) break;
      await this.clock.sleep(Math.min(this.ctx.statusCheckDelayMs, Math.max(0, deadline - this.clock.now())), signal);
      if (signal.aborted) throw abortReason(signal);
    }
    throw new Error(`probe pod ${this.ctx.chaosNamespace}/${this.name} is not running after ${Math.round(this.ctx.statusCheckTimeoutMs / 1000)} s (STATUS_CHECK_TIMEOUT): ${last}`);
  }

  async run(script: string, env: Readonly<Record<string, string>>, signal: AbortSignal): Promise<CommandResult> {
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const argv = vars.length > 0 ? ['env', ...vars, '/bin/sh', '-c', script] : ['/bin/sh', '-c', script];
    return this.exec.exec(this.ctx.chaosNamespace, this.name, this.container, argv, { signal });
  }

  /** Deletes the pod and waits until it is gone (bounded by STATUS_CHECK_TIMEOUT); a pod never created is fine. */
  async delete(): Promise<void> {
    if (!this.created) return;
    const ref = PODS(this.ctx.chaosNamespace);
    const deadline = this.clock.now() + this.ctx.statusCheckTimeoutMs;
    const signal = AbortSignal.timeout(Math.max(1, this.ctx.statusCheckTimeoutMs));
    await this.kube.delete(ref, this.name, { signal });
    for (;;) {
      const pod = await this.kube.get(ref, this.name, { signal });
      if (!pod) { this.created = false; return; }
      if (this.clock.now() >= deadline) throw new Error(`probe pod ${this.ctx.chaosNamespace}/${this.name} is still there ${Math.round(this.ctx.statusCheckTimeoutMs / 1000)} s after its deletion`);
      await this.clock.sleep(Math.min(this.ctx.statusCheckDelayMs, Math.max(0, deadline - this.clock.now())), signal);
    }
  }
}

/** One inline cmdProbe attempt in this process's namespace. */
export async function inlineAttempt(p: CmdProbeSpec, artifacts: ReadonlyMap<string, string>, signal: AbortSignal, o: { shell: string; env: NodeJS.ProcessEnv }): Promise<{ outcome: Outcome; register?: string }> {
  const { script, env } = commandWithArtifacts(p, artifacts);
  let r: CommandResult;
  try {
    r = await runShell(o.shell, script, { ...o.env, ...env }, signal);
  } catch (error) {
    if (error instanceof Error && error.name === 'AbortError') throw error;
    if (signal.aborted) throw abortReason(signal);
    return { outcome: probeError('cmdProbe', messageOf(error)) };
  }
  return judgeCommand(p, r, '');
}

/** One source cmdProbe attempt in its probe pod. */
export async function sourceAttempt(p: CmdProbeSpec, pod: ProbePod, artifacts: ReadonlyMap<string, string>, signal: AbortSignal): Promise<{ outcome: Outcome; register?: string }> {
  const { script, env } = commandWithArtifacts(p, artifacts);
  let r: CommandResult;
  try {
    r = await pod.run(script, env, signal);
  } catch (error) {
    if (signal.aborted) throw abortReason(signal);
    return { outcome: probeError('cmdProbe', `cannot run the command in probe pod ${pod.name}: ${messageOf(error)}`) };
  }
  return judgeCommand(p, r, `in probe pod ${pod.name} `);
}
