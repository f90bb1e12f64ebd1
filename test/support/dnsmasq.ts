/**
 * A real DNS server for the unit tests: dnsmasq on 127.0.0.1, a free UDP port, serving only the given
 * `--host-record`s (and NXDOMAIN for everything else). Installed from Debian's packages when missing and root.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';

export function haveDnsmasq(): boolean {
  if (spawnSync('sh', ['-c', 'command -v dnsmasq']).status === 0) return true;
  if (process.getuid?.() !== 0) return false;
  spawnSync('apt-get', ['install', '-y', '-q', 'dnsmasq-base'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return spawnSync('sh', ['-c', 'command -v dnsmasq']).status === 0;
}

/** A UDP port on 127.0.0.1 that nothing listens on (bound, read, released). */
export async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => { resolve(); }));
  return port;
}

export interface Dnsmasq {
  readonly port: number;
  stop(): void;
}

/** Starts dnsmasq with `hostRecords` (`name,address[,address]`) and returns once `answers(port)` resolves (tried for 5 s). */
export async function startDnsmasq(hostRecords: readonly string[], answers: (port: number) => Promise<unknown>): Promise<Dnsmasq> {
  const port = await freePort();
  const server = spawn('dnsmasq', [
    '--keep-in-foreground', '--no-daemon', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces',
    '--listen-address=127.0.0.1', `--port=${port}`, '--user=root', '--pid-file=',
    ...hostRecords.map((r) => `--host-record=${r}`),
    '--address=/#/',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  server.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const stop = (): void => { server.kill('SIGTERM'); };
  for (let i = 0; i < 50; i++) {
    try {
      await answers(port);
      return { port, stop };
    } catch {
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  stop();
  throw new Error(`dnsmasq did not start: ${err}`);
}
