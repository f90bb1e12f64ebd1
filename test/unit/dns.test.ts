/** Hostnames resolved the way the target would, against a real DNS server (dnsmasq on 127.0.0.1, a free port). */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { candidates, parseResolvConf, resolveHosts } from '../../src/resolve/dns.ts';
import { nodeResolver } from '../../src/resolve/node-dns.ts';
import { type Dnsmasq, freePort, haveDnsmasq, startDnsmasq } from '../support/dnsmasq.ts';


describe('resolv.conf', () => {
  test('nameservers, the last search line, ndots/timeout/attempts, comments', () => {
    const conf = parseResolvConf('# generated\nnameserver 10.96.0.10\nsearch old.local\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:2 attempts:2 edns0\nnameserver fd00::10 ; second\n');
    assert.deepEqual(conf, { nameservers: ['10.96.0.10', 'fd00::10'], search: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], ndots: 5, timeoutS: 2, attempts: 2 });
  });
  test('the search list goes first below ndots, last at or above it; a trailing dot is absolute', () => {
    const conf = { search: ['shop.svc.cluster.local', 'cluster.local'], ndots: 2 };
    assert.deepEqual(candidates('api', conf), ['api.shop.svc.cluster.local', 'api.cluster.local', 'api']);
    assert.deepEqual(candidates('db.example.com', conf), ['db.example.com', 'db.example.com.shop.svc.cluster.local', 'db.example.com.cluster.local']);
    assert.deepEqual(candidates('db.example.com.', conf), ['db.example.com']);
  });
});

const available = haveDnsmasq();
describe('against dnsmasq', { skip: available ? false : 'dnsmasq is not installed (apt-get install dnsmasq-base)' }, () => {
  let server: Dnsmasq | undefined;
  let port = 0;
  before(async () => {
    server = await startDnsmasq([
      'api.shop.svc.cluster.local,10.96.0.20',
      'db.shop.svc.cluster.local,10.96.0.30,fd00::30',
      'payments.example.com,192.0.2.44',
    ], async (p) => {
      // Answers through our own resolver.
      const r = nodeResolver(p)(parseResolvConf('nameserver 127.0.0.1\noptions timeout:1 attempts:1'));
      r.setServers(['127.0.0.1']);
      await r.resolve4('payments.example.com');
    });
    port = server.port;
  });
  after(() => { server?.stop(); });

  const conf = () => parseResolvConf('nameserver 127.0.0.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:1\n');

  test('short names through the search list, A and AAAA, ports kept', async () => {
    const r = await resolveHosts([{ host: 'api', ports: [8080] }, { host: 'db', ports: [] }, { host: 'payments.example.com', ports: [443] }], nodeResolver(port), { conf: conf(), where: '/proc/4242/root/etc/resolv.conf' });
    assert.deepEqual(r.map((h) => [h.host, h.name, h.addresses]), [
      ['api', 'api.shop.svc.cluster.local', ['10.96.0.20']],
      ['db', 'db.shop.svc.cluster.local', ['10.96.0.30', 'fd00::30']],
      ['payments.example.com', 'payments.example.com', ['192.0.2.44']],
    ]);
    assert.deepEqual(r[0]!.items, [{ cidr: { family: 4, address: '10.96.0.20', prefix: 32 }, ports: [8080] }]);
    assert.deepEqual(r[1]!.items.map((i) => i.cidr.family), [4, 6]);
  });
  test('an unresolvable host is an error naming it (never "all traffic")', async () => {
    await assert.rejects(resolveHosts([{ host: 'api', ports: [] }, { host: 'nope.example.org', ports: [] }], nodeResolver(port), { conf: conf(), where: '/proc/4242/root/etc/resolv.conf' }),
      /DESTINATION_HOSTS nope.example.org does not resolve \(no A or AAAA record\) with the target's resolver 127.0.0.1 from \/proc\/4242\/root\/etc\/resolv.conf \(tried nope.example.org.shop.svc.cluster.local, .*nope.example.org\)\. Fix the name \(or set UNRESOLVED_HOSTS=skip/);
  });
  test('UNRESOLVED_HOSTS=skip (litmus-go network-chaos.go getIpsForTargetHosts): a name without records is left out and says so; none resolving is still an error', async () => {
    const r = await resolveHosts([{ host: 'api', ports: [] }, { host: 'nope.example.org', ports: [443] }], nodeResolver(port), { conf: conf(), where: '/proc/4242/root/etc/resolv.conf', skipUnresolved: true });
    assert.deepEqual(r.map((h) => [h.host, h.addresses, h.items.length]), [['api', ['10.96.0.20'], 1], ['nope.example.org', [], 0]]);
    assert.match(r[1]!.skipped ?? '', /^DESTINATION_HOSTS nope.example.org does not resolve \(no A or AAAA record\) .*: left out \(UNRESOLVED_HOSTS=skip\)$/);
    await assert.rejects(resolveHosts([{ host: 'nope.example.org', ports: [] }, { host: 'typo.example.org', ports: [] }], nodeResolver(port), { conf: conf(), where: 'resolv.conf', skipUnresolved: true }),
      /none of DESTINATION_HOSTS resolves .*nope.example.org, typo.example.org/);
  });
  test('skip is no excuse for a silent nameserver: still an error', async () => {
    const silent = await freePort();
    await assert.rejects(resolveHosts([{ host: 'api', ports: [] }], nodeResolver(silent), { conf: conf(), where: 'resolv.conf', skipUnresolved: true }), /did not answer for api.shop.svc.cluster.local/);
  });
  test('a nameserver that does not answer is an error, not an empty answer', async () => {
    const silent = await freePort();
    await assert.rejects(resolveHosts([{ host: 'api', ports: [] }], nodeResolver(silent), { conf: conf(), where: 'resolv.conf' }), /did not answer for api.shop.svc.cluster.local/);
  });
});
