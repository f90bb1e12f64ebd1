/**
 * Container → netns: crictl and docker through fake executables on a PATH the test owns (they check their
 * arguments and print the real JSON shapes), and the /proc/<pid>/cgroup fallback against real cgroups (root).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realExec } from '../../src/host/exec.ts';
import { realFiles } from '../../src/host/files.ts';
import { findContainer, parseCrictlInspect, scanCgroups } from '../../src/runtime/container.ts';
import { parseContainerId } from '../../src/model/runtime.ts';

/* eslint-disable @typescript-eslint/no-unsafe-assignment -- fixture JSON */

const fixtures = new URL('./fixtures/', import.meta.url);
const CRIO_ID = 'c1f5a0e4d6b2c3a48f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a';
const CONTAINERD_ID = '5e0c7a3b9d2f41e8a6c4b1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0';
const DOCKER_ID = '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b';
const NOPID_ID = 'deadbeef0000111122223333444455556666777788889999aaaabbbbccccdddd';

const dir = mkdtempSync(join(tmpdir(), 'netchaos-runtime-'));
const bin = join(dir, 'bin');
let socketServer: Server;
const socket = join(dir, 'runtime.sock');

/** A fake CLI: checks its argv against the expected prefix, logs it, prints <id>.json or fails like the real one. */
function fakeCli(name: string, prefix: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh
echo "$*" >> "${dir}/${name}.calls"
expected="${prefix}"
case "$*" in
  "$expected "*) ;;
  *) echo "unexpected arguments: $*" >&2; exit 64 ;;
esac
for last; do :; done
if [ -f "${dir}/$last.json" ]; then cat "${dir}/$last.json"; exit 0; fi
echo "time=\\"2025-01-01T00:00:00Z\\" level=fatal msg=\\"getting the status of the container \\\\\\"$last\\\\\\": rpc error: code = NotFound desc = could not find container\\"" >&2
exit 1
`);
  chmodSync(join(bin, name), 0o755);
}

before(async () => {
  mkdirSync(bin);
  socketServer = createServer();
  await new Promise<void>((resolve) => socketServer.listen(socket, resolve));
  fakeCli('crictl', `--runtime-endpoint unix://${socket} inspect --output json`);
  fakeCli('docker', `--host unix://${socket} inspect`);
  copyFileSync(new URL('crictl-inspect-crio.json', fixtures), join(dir, `${CRIO_ID}.json`));
  copyFileSync(new URL('crictl-inspect-containerd.json', fixtures), join(dir, `${CONTAINERD_ID}.json`));
  copyFileSync(new URL('docker-inspect.json', fixtures), join(dir, `${DOCKER_ID}.json`));
  const nopid: { info: Record<string, unknown> } = JSON.parse(readFileSync(new URL('crictl-inspect-containerd.json', fixtures), 'utf8'));
  delete nopid.info['pid'];
  writeFileSync(join(dir, `${NOPID_ID}.json`), JSON.stringify(nopid));
});
after(() => {
  socketServer.close();
  rmSync(dir, { recursive: true, force: true });
});

const deps = () => ({ exec: realExec, files: realFiles(bin) });

describe('crictl and docker', () => {
  test('CRI-O: pid and the /var/run/netns path, runtime from the cri-o:// prefix', async () => {
    const c = await findContainer(deps(), { ref: parseContainerId('containerID', `cri-o://${CRIO_ID}`), runtime: { runtime: 'auto', socketPath: socket } });
    assert.deepEqual({ pid: c.pid, netnsPath: c.netnsPath, via: c.via, runtime: c.runtime, netns: c.netns },
      { pid: 48211, netnsPath: '/var/run/netns/4a3c7e29-1b8d-4f0e-9c61-2d5f7a8b9e10', via: 'crictl', runtime: 'crio', netns: { kind: 'pid', pid: 48211 } });
    assert.match(readFileSync(join(dir, 'crictl.calls'), 'utf8'), new RegExp(`^--runtime-endpoint unix://${socket} inspect --output json ${CRIO_ID}$`, 'm'));
  });
  test('containerd: pid and the sandbox netns path', async () => {
    const c = await findContainer(deps(), { ref: parseContainerId('containerID', `containerd://${CONTAINERD_ID}`), runtime: { runtime: 'auto', socketPath: socket } });
    assert.equal(c.pid, 23917);
    assert.equal(c.netnsPath, '/proc/23850/ns/net');
    assert.equal(c.runtime, 'containerd');
  });
  test('docker: State.Pid', async () => {
    const c = await findContainer(deps(), { ref: parseContainerId('containerID', `docker://${DOCKER_ID}`), runtime: { runtime: 'auto', socketPath: socket } });
    assert.deepEqual([c.pid, c.via, c.netnsPath], [31337, 'docker', '/proc/31337/ns/net']);
  });
  test('JSON without info.pid says which field is missing', async () => {
    await assert.rejects(findContainer(deps(), { ref: parseContainerId('x', NOPID_ID), runtime: { runtime: 'containerd', socketPath: socket } }),
      /crictl inspect deadbeef.*: unexpected output: info\.pid is missing/);
    assert.throws(() => parseCrictlInspect('{"status":{}}', 'abc'), /info is missing/);
    assert.throws(() => parseCrictlInspect('level=fatal', 'abc'), /did not print JSON/);
  });
  test('an unknown container: crictl\'s own message and what to check', async () => {
    await assert.rejects(findContainer(deps(), { ref: parseContainerId('x', 'ab'.repeat(32)), runtime: { runtime: 'crio', socketPath: socket } }),
      /crictl --runtime-endpoint .* failed \(exit 1\): .*could not find container.*Check that SOCKET_PATH is the crio socket/);
  });
  test('socket missing, crictl missing: the cgroup fallback is tried, then a message naming both', async () => {
    const id = 'f'.repeat(64);
    await assert.rejects(findContainer(deps(), { ref: parseContainerId('x', id), runtime: { runtime: 'containerd', socketPath: join(dir, 'nope.sock') } }),
      /the containerd socket .*nope.sock does not exist .*SOCKET_PATH\), and no process in \/proc\/\*\/cgroup belongs to it \(the fallback needs hostPID/);
    await assert.rejects(findContainer({ exec: realExec, files: realFiles(join(dir, 'empty')) }, { ref: parseContainerId('x', id), runtime: { runtime: 'crio', socketPath: socket } }),
      /crictl is not installed in the runner image/);
  });
});

describe('the /proc/<pid>/cgroup fallback', () => {
  const fakeProc = join(dir, 'proc');
  test('cgroup v1 and v2 lines of CRI-O, containerd (systemd and cgroupfs drivers); not conmon', () => {
    const files: Record<string, string> = {
      '100': `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/crio-conmon-${CRIO_ID}.scope\n`,
      '101': `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/crio-${CRIO_ID}.scope/container\n`,
      '102': `12:pids:/kubepods.slice/kubepods-pod99.slice/cri-containerd-${CONTAINERD_ID}.scope\n11:memory:/kubepods.slice/kubepods-pod99.slice/cri-containerd-${CONTAINERD_ID}.scope\n`,
      '103': `4:cpu,cpuacct:/kubepods/besteffort/pod7f2e/${DOCKER_ID}\n`,
      '99': `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/crio-${CRIO_ID}.scope\n`,
      'self': `0::/\n`,
    };
    for (const [pid, text] of Object.entries(files)) {
      mkdirSync(join(fakeProc, pid), { recursive: true });
      writeFileSync(join(fakeProc, pid, 'cgroup'), text);
    }
    const fs = realFiles('');
    assert.deepEqual(scanCgroups(fs, CRIO_ID, fakeProc), [99, 101]);
    assert.deepEqual(scanCgroups(fs, CONTAINERD_ID, fakeProc), [102]);
    assert.deepEqual(scanCgroups(fs, DOCKER_ID.slice(0, 13), fakeProc), [103]);
    assert.deepEqual(scanCgroups(fs, 'e'.repeat(64), fakeProc), []);
  });

  const isRoot = process.getuid?.() === 0;
  const v2 = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((p) => existsSync(join(p, 'cgroup.procs')) && existsSync(join(p, 'cgroup.controllers')));
  const v1 = existsSync('/sys/fs/cgroup/pids/cgroup.procs') ? '/sys/fs/cgroup/pids' : undefined;
  for (const [version, root, name] of [['v2', v2, `crio-${CRIO_ID}.scope`], ['v1', v1, `cri-containerd-${CONTAINERD_ID}.scope`]] as const) {
    test(`real cgroup ${version}: a process in ${name} is found through /proc`, { skip: !isRoot || root === undefined ? 'needs root and a writable cgroup ' + version : false }, async (t) => {
      const parent = join(root!, `netchaos-test-${process.pid}`);
      const cg = join(parent, name);
      mkdirSync(cg, { recursive: true });
      const child: ChildProcess = spawn('sleep', ['60'], { stdio: 'ignore' });
      t.after(async () => {
        child.kill('SIGKILL');
        await new Promise((resolve) => { if (child.exitCode !== null || child.signalCode !== null) resolve(undefined); else child.once('exit', resolve); });
        for (const d of [cg, parent]) {
          for (let i = 0; i < 20 && existsSync(d); i++) {
            try { rmdirSync(d); } catch { await new Promise((r) => setTimeout(r, 50)); }
          }
        }
        assert.equal(existsSync(parent), false, `${parent} was not removed`);
      });
      writeFileSync(join(cg, 'cgroup.procs'), String(child.pid));
      const id = version === 'v2' ? CRIO_ID : CONTAINERD_ID;
      const pids = scanCgroups(realFiles(''), id);
      assert.deepEqual(pids, [child.pid]);
      const c = await findContainer(deps(), { ref: parseContainerId('x', id), runtime: { runtime: 'auto', socketPath: join(dir, 'missing.sock') } });
      assert.equal(c.via, 'cgroup');
      assert.equal(c.pid, child.pid);
      assert.equal(c.netnsPath, `/proc/${child.pid}/ns/net`);
      assert.match(c.note ?? '', /found the container's process/);
    });
  }
});
