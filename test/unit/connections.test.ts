/**
 * Reading a target's sockets: the /proc/net parser on tables recorded on a real kernel
 * (fixtures/conns/record.sh), checked against `ss` recorded at the same moment; the reader for a pid and
 * for a netns path, with fakes and against this process's own sockets.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket as NetSocket } from 'node:net';
import { createSocket } from 'node:dgram';
import { type Socket, type ProcNetFile, headerKind, mergeTables, parseProcNet, procNetFiles, splitTables } from '../../src/connections/procnet.ts';
import { readSockets } from '../../src/connections/read.ts';
import { blastSection } from '../../src/connections/section.ts';
import type { CatalogApi } from '../../src/connections/catalog.ts';
import { plan } from '../../src/tc/plan.ts';
import { specOf } from '../support/spec.ts';
import type { ExecResult } from '../../src/ports.ts';
import { realExec } from '../../src/host/exec.ts';
import { realFiles as hostFiles } from '../../src/host/files.ts';

const realFiles = hostFiles(process.env['PATH'] ?? '');

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/conns/${name}`, import.meta.url), 'utf8');
const recorded = (): readonly Socket[] => mergeTables(procNetFiles.map((f) => parseProcNet(f, fixture(`proc-net-${f}.txt`), { endianness: 'LE', where: f }))).sockets;
const show = (s: Socket): string => `${s.proto} ${s.state} ${s.local.address}:${s.local.port} ${s.remote.address}:${s.remote.port}`;

/** One line of `ss -H -t -u -a -n -e` as ss prints it, reduced to what /proc/net also says. */
function parseSsLine(line: string): { proto: string; state: string; local: string; remote: string; inode: number } {
  const w = line.trim().split(/\s+/);
  const endpoint = (text: string): string => {
    const m = /^(.*):(\d+|\*)$/.exec(text);
    assert.ok(m, `ss endpoint ${text}`);
    const address = m[1]!.replace(/^\[(.*)\]$/, '$1').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
    return `${address === '*' ? 'any' : address === '0.0.0.0' || address === '::' ? 'any' : address}:${m[2] === '*' ? 0 : m[2]}`;
  };
  const inode = /ino:(\d+)/.exec(line)?.[1];
  return { proto: w[0]!, state: w[1]!, local: endpoint(w[4]!), remote: endpoint(w[5]!), inode: Number(inode ?? -1) };
}
const anyOf = (address: string): string => (address === '0.0.0.0' || address === '::' ? 'any' : address);

describe('/proc/net tables recorded on a real kernel', () => {
  test('every table is read whole, and says exactly what ss (netlink sock_diag) said at the same moment', () => {
    const ours = recorded();
    const ss = fixture('ss.txt').split('\n').filter((l) => l.trim() !== '').map(parseSsLine);
    assert.equal(ours.length, ss.length);
    assert.equal(ours.length, 21);
    const key = (x: { proto: string; state: string; local: string; remote: string; inode: number }): string => `${x.proto} ${x.state} ${x.local} ${x.remote} ${x.inode}`;
    const fromProc = ours.map((s) => key({ proto: s.proto, state: s.state, local: `${anyOf(s.local.address)}:${s.local.port}`, remote: `${anyOf(s.remote.address)}:${s.remote.port}`, inode: s.inode }));
    assert.deepEqual(fromProc.sort(), ss.map(key).sort());
  });

  test('IPv4 and IPv6, TCP and UDP, listening, established, TIME-WAIT; v4-mapped peers of IPv6 sockets are IPv4', () => {
    const s = recorded();
    const find = (text: string): Socket => {
      const found = s.find((x) => show(x) === text);
      assert.ok(found, `${text} in\n${s.map(show).join('\n')}`);
      return found;
    };
    assert.equal(find('tcp LISTEN 0.0.0.0:8080 0.0.0.0:0').family, 4);
    assert.equal(find('tcp LISTEN :::9090 :::0').family, 6, 'a dual-stack listener is an IPv6 socket');
    assert.equal(find('tcp LISTEN 2001:db8::10:7071 :::0').v6Socket, true);
    find('tcp LISTEN 192.0.2.10:7070 0.0.0.0:0');
    find('tcp LISTEN 127.0.0.1:7072 0.0.0.0:0');
    const mapped = s.find((x) => x.proto === 'tcp' && x.remote.port === 5432);
    assert.deepEqual(mapped && { family: mapped.family, v6Socket: mapped.v6Socket, local: mapped.local.address, remote: mapped.remote.address },
      { family: 4, v6Socket: true, local: '192.0.2.10', remote: '192.0.2.11' }, 'net.connect("::ffff:192.0.2.11") makes an IPv6 socket whose packets are IPv4');
    const inbound = s.find((x) => x.proto === 'tcp' && x.local.port === 9090 && x.family === 4);
    assert.equal(inbound?.v6Socket, true, 'an IPv4 client accepted by the dual-stack listener');
    assert.equal(s.filter((x) => x.remote.address === '192.0.2.11' && x.remote.port === 8080 && x.state === 'ESTAB').length, 2);
    assert.equal(s.filter((x) => x.remote.address === '2001:db8::11' && x.remote.port === 8080).length, 1);
    const tw = s.find((x) => x.state === 'TIME-WAIT');
    assert.deepEqual(tw && { remote: tw.remote, inode: tw.inode }, { remote: { address: '192.0.2.11', port: 443 }, inode: 0 });
    // UDP: connect()ed sockets are ESTAB with a peer, bound ones UNCONN.
    assert.deepEqual(s.filter((x) => x.proto === 'udp').map((x) => `${x.state} ${x.family} ${x.remote.address}:${x.remote.port}`).sort(), [
      'ESTAB 4 192.0.2.11:123', 'ESTAB 4 192.0.2.11:53', 'ESTAB 6 2001:db8::11:53', 'UNCONN 4 0.0.0.0:0', 'UNCONN 6 :::0',
    ]);
  });

  test('addresses are host-order 32-bit words: the same line means another address on a big-endian host', () => {
    const line = 'sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0A0200C0:9332 0B0200C0:1F90 01 00000000:00000000 00:00000000 00000000     0        0 25666 1 0 20 0 0 10 -1\n';
    assert.equal(parseProcNet('tcp', line, { endianness: 'LE', where: 't' }).sockets[0]?.remote.address, '192.0.2.11');
    assert.equal(parseProcNet('tcp', line, { endianness: 'BE', where: 't' }).sockets[0]?.remote.address, '11.2.0.192');
    const v6 = parseProcNet('tcp6', fixture('proc-net-tcp6.txt'), { endianness: 'LE', where: 't' }).sockets;
    assert.ok(v6.some((x) => x.local.address === '2001:db8::10'));
  });

  test('a line that cannot be read is reported with where it was, and the rest is kept', () => {
    const text = fixture('proc-net-tcp.txt').replace(/^( +3: )\S+/m, '$1ZZZZ:0050');
    const t = parseProcNet('tcp', text, { endianness: 'LE', where: '/proc/4242/net/tcp' });
    assert.equal(t.sockets.length, recorded().filter((x) => x.proto === 'tcp' && !x.v6Socket).length - 1);
    assert.equal(t.problems.length, 1);
    assert.match(t.problems[0]!, /^\/proc\/4242\/net\/tcp line 5: cannot read "3: ZZZZ:0050 /);
    assert.match(parseProcNet('udp', fixture('proc-net-tcp.txt'), { endianness: 'LE', where: 'x' }).problems[0]!, /x: the first line is not the udp header/);
  });

  test('the four tables from one `cat` are split at their headers; a missing IPv6 table is no section', () => {
    assert.deepEqual(procNetFiles.map((f) => headerKind(fixture(`proc-net-${f}.txt`).split('\n')[0]!)), ['tcp', 'tcp6', 'udp', 'udp6']);
    const all = splitTables(['tcp', 'udp'].map((f) => fixture(`proc-net-${f}.txt`)).join(''));
    assert.deepEqual(all.map((s) => s.kind), ['tcp', 'udp']);
    assert.throws(() => splitTables('cat: something\n'), /does not start with a \/proc\/net header line/);
  });

  test('a socket printed twice (the kernel prints a table in chunks) is counted once', () => {
    const tcp = parseProcNet('tcp', fixture('proc-net-tcp.txt'), { endianness: 'LE', where: 'tcp' });
    assert.equal(mergeTables([tcp, tcp]).sockets.length, tcp.sockets.length);
  });
});

describe('readSockets', () => {
  const files = (tables: Partial<Record<ProcNetFile, string>>, pid = 4242) => ({
    readText: (path: string): string => {
      const m = new RegExp(`^/proc/${pid}/net/(tcp6?|udp6?)$`).exec(path);
      const text = m ? tables[m[1] as ProcNetFile] : undefined;
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return text;
    },
  });
  const noExec = () => Promise.reject(new Error('a pid is read without an exec'));
  const allTables = Object.fromEntries(procNetFiles.map((f) => [f, fixture(`proc-net-${f}.txt`)]));

  test('a pid: its four tables under /proc/<pid>/net, no exec', async () => {
    const r = await readSockets({ exec: noExec, files: files(allTables) }, { kind: 'pid', pid: 4242 }, { endianness: 'LE' });
    assert.equal(r.sockets.length, 21);
    assert.equal(r.source, '/proc/4242/net/{tcp,tcp6,udp,udp6}');
  });
  test('a kernel without IPv6 has no tcp6/udp6: IPv4 only; a pid that is gone is an error that says what to check', async () => {
    const r = await readSockets({ exec: noExec, files: files({ tcp: allTables['tcp']!, udp: allTables['udp']! }) }, { kind: 'pid', pid: 4242 }, { endianness: 'LE' });
    assert.ok(r.sockets.length > 0 && r.sockets.every((s) => !s.v6Socket));
    await assert.rejects(readSockets({ exec: noExec, files: files({}) }, { kind: 'pid', pid: 4242 }), /cannot read \/proc\/4242\/net\/tcp \(ENOENT\): is process 4242 still running, and does this runner share the host PID namespace \(hostPID\)\?/);
  });

  test('a netns path: one nsenter exec of cat over the four tables', async () => {
    const calls: string[][] = [];
    const exec = (file: string, args: readonly string[]): Promise<ExecResult> => {
      calls.push([file, ...args]);
      return Promise.resolve({ exitCode: 0, stdout: procNetFiles.map((f) => allTables[f]).join(''), stderr: '' });
    };
    const r = await readSockets({ exec, files: files({}) }, { kind: 'netns', path: '/var/run/netns/app' }, { endianness: 'LE' });
    assert.deepEqual(calls, [['nsenter', '--net=/var/run/netns/app', '--', 'cat', '/proc/self/net/tcp', '/proc/self/net/tcp6', '/proc/self/net/udp', '/proc/self/net/udp6']]);
    assert.equal(r.sockets.length, 21);
  });
  test('a netns path: no IPv6 tables is fine (cat exits 1), a namespace that cannot be entered is an error', async () => {
    const noV6 = () => Promise.resolve({ exitCode: 1, stdout: allTables['tcp']! + allTables['udp']!, stderr: 'cat: /proc/self/net/tcp6: No such file or directory\ncat: /proc/self/net/udp6: No such file or directory\n' });
    assert.equal((await readSockets({ exec: noV6, files: files({}) }, { kind: 'netns', path: '/run/netns/x' }, { endianness: 'LE' })).sockets.filter((s) => s.v6Socket).length, 0);
    const gone = () => Promise.resolve({ exitCode: 1, stdout: '', stderr: 'nsenter: cannot open /run/netns/x: No such file or directory\n' });
    await assert.rejects(readSockets({ exec: gone, files: files({}) }, { kind: 'netns', path: '/run/netns/x' }), /cannot enter the network namespace of netns \/run\/netns\/x: nsenter: cannot open/);
  });

  test('the blast radius of a netns target: its socket read runs while the Services are listed, not after them', async () => {
    const order: string[] = [];
    let execStarted!: () => void;
    const execCalled = new Promise<void>((resolve) => { execStarted = resolve; });
    const exec = (file: string, args: readonly string[]): Promise<ExecResult> => {
      order.push(`exec ${file} ${args.at(-4) ?? ''}`);
      execStarted();
      return Promise.resolve({ exitCode: 0, stdout: procNetFiles.map((f) => allTables[f]).join(''), stderr: '' });
    };
    // Each list answers only once the socket read has started (or after 2 s: the test then fails on the order).
    const readOrLate = new Promise<void>((resolve) => {
      const late = setTimeout(resolve, 2000);
      void execCalled.then(() => { clearTimeout(late); resolve(); });
    });
    const slowList = async <T,>(what: string, value: T): Promise<T> => {
      await readOrLate;
      order.push(what);
      return value;
    };
    const catalogApi = (): Promise<CatalogApi> => Promise.resolve({
      listServices: (ns) => slowList(`list services ${ns}`, []),
      listEndpointSlices: (ns) => slowList(`list endpointslices ${ns}`, []),
      listRunningPods: (ns) => slowList(`list pods ${ns}`, []),
    });
    const s = specOf({ DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100', PEER_NAMESPACES: 'shop' });
    const section = await blastSection({ exec, files: files({}), catalogApi }, { target: { kind: 'netns', path: '/run/netns/app' }, spec: s, plan: plan(s) });
    assert.equal(section.error, undefined, JSON.stringify(section));
    assert.equal(order[0], 'exec nsenter /proc/self/net/tcp', `the read came first: ${order.join(', ')}`);
    assert.ok(order.includes('list services shop'), order.join(', '));
    assert.equal(order.filter((o) => o.startsWith('exec')).length, 1, 'one exec');
  });
  describe('on this host, against sockets this test opens', () => {
    let server: Server;
    let client: NetSocket;
    const udp = createSocket('udp6');
    let serverPort = 0;
    let udpPort = 0;
    test('setup', async () => {
      server = createServer((c) => { c.on('error', () => {}); });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      serverPort = (server.address() as { port: number }).port;
      client = connect(serverPort, '127.0.0.1');
      await new Promise((resolve) => client.once('connect', resolve));
      await new Promise<void>((resolve) => udp.bind(0, '::1', resolve));
      udpPort = udp.address().port;
    });
    const check = (sockets: readonly Socket[]): void => {
      assert.ok(sockets.some((s) => s.proto === 'tcp' && s.state === 'LISTEN' && s.local.port === serverPort && s.local.address === '127.0.0.1'));
      assert.ok(sockets.some((s) => s.proto === 'tcp' && s.state === 'ESTAB' && s.remote.port === serverPort && s.local.port === client.localPort));
      assert.ok(sockets.some((s) => s.proto === 'udp' && s.state === 'UNCONN' && s.local.address === '::1' && s.local.port === udpPort && s.family === 6));
    };
    test('pid: /proc/<pid>/net of this process', async () => {
      check((await readSockets({ exec: realExec, files: realFiles }, { kind: 'pid', pid: process.pid })).sockets);
    });
    test('netns path: nsenter into this process\'s namespace', { skip: process.getuid?.() === 0 ? false : 'nsenter needs root' }, async () => {
      check((await readSockets({ exec: realExec, files: realFiles }, { kind: 'netns', path: `/proc/${process.pid}/ns/net` })).sockets);
    });
    test('teardown', () => {
      client.destroy();
      server.close();
      udp.close();
    });
  });
});
