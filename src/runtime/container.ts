/**
 * Container → network namespace. The runtime's CLI (crictl for CRI-O and containerd, docker) through the
 * node's socket, or, when the socket or the CLI is missing, a scan of /proc/<pid>/cgroup for the container ID
 * (needs hostPID). Everything the CLIs print is validated before use.
 */
import { Ajv, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { ContainerRuntimeError } from '../model/errors.js';
import { parseJson } from '../model/json.js';
import type { NetnsRef } from '../model/netns.js';
import { type ContainerRef, type RuntimeName, type RuntimeOptions, defaultSockets, runtimes } from '../model/runtime.js';
import type { Deps, Files } from '../ports.js';

export interface ContainerNetns {
  readonly pid: number;
  /** What the runtime reports (CRI-O: /var/run/netns/<id>), else /proc/<pid>/ns/net. */
  readonly netnsPath: string;
  readonly via: 'crictl' | 'docker' | 'cgroup';
  readonly runtime: RuntimeName | undefined;
  /** Entered through the PID (hostPID): it works whatever the runtime's netns directory is. */
  readonly netns: NetnsRef;
  /** Why the fallback was used, when it was. */
  readonly note?: string;
}

type RuntimeDeps = Pick<Deps, 'exec' | 'files'>;

export interface FindOptions {
  readonly ref: ContainerRef;
  readonly runtime: RuntimeOptions;
  /** Where the cgroup fallback looks (tests point it elsewhere). */
  readonly procRoot?: string | undefined;
  /** The run's stop: the runtime CLI is not waited for once it aborts. */
  readonly signal?: AbortSignal | undefined;
}

/** crictl or docker inspect: a runtime that does not answer in this time is treated as unavailable. */
const CLI_TIMEOUT_MS = 10_000;

interface CrictlInspect {
  info: {
    pid: number;
    runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } };
  };
}

const crictlSchema: JSONSchemaType<CrictlInspect> = {
  type: 'object',
  required: ['info'],
  properties: {
    info: {
      type: 'object',
      required: ['pid'],
      properties: {
        pid: { type: 'integer', minimum: 0 },
        runtimeSpec: {
          type: 'object', nullable: true, required: [],
          properties: {
            linux: {
              type: 'object', nullable: true, required: [],
              properties: {
                namespaces: {
                  type: 'array', nullable: true,
                  items: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, path: { type: 'string', nullable: true } } },
                },
              },
            },
          },
        },
      },
    },
  },
};

type DockerInspect = { State: { Pid: number; Running?: boolean } }[];

const dockerSchema: JSONSchemaType<DockerInspect> = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    required: ['State'],
    properties: { State: { type: 'object', required: ['Pid'], properties: { Pid: { type: 'integer', minimum: 0 }, Running: { type: 'boolean', nullable: true } } } },
  },
};

/** Compiled on first use: runs that name no container do not pay for it at start-up. */
let validators: { crictl: ValidateFunction<CrictlInspect>; docker: ValidateFunction<DockerInspect> } | undefined;
const validate = () => {
  const ajv = new Ajv({ allErrors: true });
  return (validators ??= { crictl: ajv.compile(crictlSchema), docker: ajv.compile(dockerSchema) });
};

function schemaProblems(errors: ValidateFunction['errors']): string {
  return (errors ?? []).map((e) => {
    const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const missing = 'missingProperty' in e.params && typeof e.params.missingProperty === 'string' ? e.params.missingProperty : undefined;
    return missing !== undefined ? `${path ? `${path}.` : ''}${missing} is missing` : `${path || 'the document'} ${e.message ?? 'is invalid'}`;
  }).join('; ');
}

const json = (text: string, what: string): unknown =>
  parseJson(text, (start) => new ContainerRuntimeError(`${what} did not print JSON: ${start}`));

/** Parses `crictl inspect` (CRI-O and containerd shapes). */
export function parseCrictlInspect(text: string, id: string): { pid: number; netnsPath: string | undefined } {
  const what = `crictl inspect ${id}`;
  const data = json(text, what);
  const { crictl } = validate();
  if (!crictl(data)) {
    throw new ContainerRuntimeError(`${what}: unexpected output: ${schemaProblems(crictl.errors)} (is the container running, and is this CRI-O or containerd?)`);
  }
  if (data.info.pid === 0) throw new ContainerRuntimeError(`${what}: info.pid is 0: the container is not running`);
  const netnsPath = data.info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path;
  return { pid: data.info.pid, netnsPath: netnsPath === '' ? undefined : netnsPath };
}

export function parseDockerInspect(text: string, id: string): { pid: number } {
  const what = `docker inspect ${id}`;
  const data = json(text, what);
  const { docker } = validate();
  if (!docker(data)) throw new ContainerRuntimeError(`${what}: unexpected output: ${schemaProblems(docker.errors)}`);
  const pid = data[0]?.State.Pid ?? 0;
  if (pid === 0) throw new ContainerRuntimeError(`${what}: State.Pid is 0: the container is not running`);
  return { pid };
}

/** A cgroup path segment that names a container: `crio-<id>.scope`, `cri-containerd-<id>.scope`, `docker-<id>.scope` or `<id>`. */
const segmentId = /^(?:crio-|cri-containerd-|docker-)?([0-9a-f]{12,64})(?:\.scope)?$/;

/** The processes whose cgroup (v1 or v2) names the container, lowest PID (the container's init) first. */
export function scanCgroups(fs: Pick<Files, 'list' | 'readText'>, id: string, procRoot = '/proc'): number[] {
  const pids: number[] = [];
  for (const entry of fs.list(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    let text: string;
    try {
      text = fs.readText(`${procRoot}/${entry}/cgroup`);
    } catch {
      continue; // the process exited
    }
    const hit = text.split('\n').some((line) => {
      const path = line.split(':').slice(2).join(':');
      return path.split('/').some((seg) => {
        const m = segmentId.exec(seg);
        return m?.[1] !== undefined && m[1].startsWith(id);
      });
    });
    if (hit) pids.push(Number(entry));
  }
  return pids.sort((a, b) => a - b);
}

/** CONTAINER_RUNTIME=auto without an ID prefix: from the socket's name, else the default socket that exists. */
function detectRuntime(fs: Pick<Files, 'exists'>, socketPath: string | undefined): RuntimeName | undefined {
  const name = socketPath?.split('/').pop() ?? '';
  const byName = runtimes.find((r) => name.startsWith(r));
  return byName ?? runtimes.find((r) => fs.exists(defaultSockets[r]));
}

/** The container's namespace, entered through its process; `netnsPath` is what the runtime reports, when it does. */
function fromPid(pid: number, o: Pick<ContainerNetns, 'via' | 'runtime'> & { netnsPath?: string | undefined; note?: string }): ContainerNetns {
  return { pid, netnsPath: o.netnsPath ?? `/proc/${pid}/ns/net`, via: o.via, runtime: o.runtime, netns: { kind: 'pid', pid }, ...(o.note !== undefined ? { note: o.note } : {}) };
}

/** Finds the container's init process and network namespace. */
export async function findContainer(deps: RuntimeDeps, o: FindOptions): Promise<ContainerNetns> {
  const { ref, procRoot = '/proc' } = o;
  const runtime = o.runtime.runtime !== 'auto' ? o.runtime.runtime : ref.runtime ?? detectRuntime(deps.files, o.runtime.socketPath);
  const socket = o.runtime.socketPath ?? (runtime ? defaultSockets[runtime] : undefined);
  const cli = runtime === 'docker' ? 'docker' : 'crictl';
  let reason: string;
  if (runtime === undefined) {
    reason = `no runtime socket found (${Object.values(defaultSockets).join(', ')}) and CONTAINER_RUNTIME is auto`;
  } else if (socket === undefined || !deps.files.exists(socket)) {
    reason = `the ${runtime} socket ${socket ?? '?'} does not exist in this container (mount the node's socket with a hostPath volume and set SOCKET_PATH)`;
  } else {
    const binary = deps.files.findExecutable(cli);
    if (binary === undefined) {
      reason = `${cli} is not installed in the runner image (PATH)`;
    } else {
      const cliCall = { binary, socket, id: ref.id, signal: o.signal };
      return runtime === 'docker' ? viaDocker(deps, cliCall) : viaCrictl(deps, cliCall, runtime);
    }
  }
  const pids = scanCgroups(deps.files, ref.id, procRoot);
  const pid = pids[0];
  if (pid === undefined) {
    throw new ContainerRuntimeError(`cannot find container ${ref.id}: ${reason}, and no process in ${procRoot}/*/cgroup belongs to it (the fallback needs hostPID: true so the node's processes are visible; is the container running on this node?)`);
  }
  return fromPid(pid, { via: 'cgroup', runtime, note: `${reason}; found the container's process ${pid} in ${procRoot}/${pid}/cgroup instead` });
}

interface CliCall {
  readonly binary: string;
  readonly socket: string;
  readonly id: string;
  readonly signal: AbortSignal | undefined;
}

const cliOptions = (c: CliCall) => ({ timeoutMs: CLI_TIMEOUT_MS, ...(c.signal ? { signal: c.signal } : {}) });

async function viaCrictl(deps: RuntimeDeps, c: CliCall, runtime: RuntimeName): Promise<ContainerNetns> {
  const { socket, id } = c;
  const args = ['--runtime-endpoint', `unix://${socket}`, 'inspect', '--output', 'json', id];
  const r = await deps.exec(c.binary, args, cliOptions(c));
  if (r.exitCode !== 0) {
    throw new ContainerRuntimeError(`crictl ${args.join(' ')} failed (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}. Check that SOCKET_PATH is the ${runtime} socket of this node and that the container runs here.`);
  }
  const { pid, netnsPath } = parseCrictlInspect(r.stdout, id);
  return fromPid(pid, { via: 'crictl', runtime, netnsPath });
}

async function viaDocker(deps: RuntimeDeps, c: CliCall): Promise<ContainerNetns> {
  const { socket, id } = c;
  const args = ['--host', `unix://${socket}`, 'inspect', id];
  const r = await deps.exec(c.binary, args, cliOptions(c));
  if (r.exitCode !== 0) {
    throw new ContainerRuntimeError(`docker ${args.join(' ')} failed (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}. Check SOCKET_PATH and that the container runs on this node.`);
  }
  return fromPid(parseDockerInspect(r.stdout, id).pid, { via: 'docker', runtime: 'docker' });
}
