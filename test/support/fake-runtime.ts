/** A fake container runtime for the Litmus tests: a runtime socket and a crictl that checks its arguments. */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Deps } from '../../src/ports.ts';
import { realExec } from '../../src/host/exec.ts';

/**
 * A container runtime for the Litmus tests, in `dir`: a listening unix socket and a fake crictl in
 * `<dir>/bin` that prints real containerd `inspect` JSON and fails (exit 64) on any other arguments
 * than `--runtime-endpoint unix://<socket> inspect --output json <id>` (any id when `id` is not given).
 */
export async function fakeRuntime(dir: string, opts: { id?: string } = {}): Promise<{ bin: string; socket: string; close: () => void }> {
  const bin = join(dir, 'bin');
  const socket = join(dir, 'containerd.sock');
  mkdirSync(bin);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  copyFileSync(new URL('../unit/fixtures/crictl-inspect-containerd.json', import.meta.url), join(dir, 'inspect.json'));
  const expected = `--runtime-endpoint unix://${socket} inspect --output json`;
  const check = opts.id !== undefined ? `[ "$*" = "${expected} ${opts.id}" ]` : `[ "$1 $2 $3 $4 $5" = "${expected}" ]`;
  writeFileSync(join(bin, 'crictl'), `#!/bin/sh
${check} || { echo "unexpected: $*" >&2; exit 64; }
cat "${dir}/inspect.json"
`);
  chmodSync(join(bin, 'crictl'), 0o755);
  return { bin, socket, close: () => { server.close(); } };
}

/** An Exec that runs the fake crictl in `bin` for real, and refuses anything else. */
export function crictlOnly(bin: string): Deps['exec'] {
  return (file, args, o) => (file === join(bin, 'crictl') ? realExec(file, args, o) : Promise.reject(new Error(`unexpected exec: ${file} ${args.join(' ')}`)));
}
