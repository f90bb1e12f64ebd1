import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import ipaddr from 'ipaddr.js';
import { UsageError } from '../../src/model/errors.ts';
import { buildSpec } from '../../src/config/spec.ts';
import type { VariableName } from '../../src/config/vars.ts';
import { addressUnits, addressWords, formatCidr, parseCidr } from '../../src/model/addresses.ts';
import { plan } from '../../src/tc/plan.ts';
import { Tree } from '../support/u32sim.ts';

/** A small deterministic generator: the same cases on every run, and a failure names its seed. */
function random(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s % n;
  };
}

describe('addresses: parsed by hand, checked against ipaddr.js (an independent parser)', () => {
  test('canonical text: RFC 5952 for IPv6 (longest zero run, the first on a tie, never one group), dotted quad for IPv4', () => {
    const cases: [string, string][] = [
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:db8:0000:0001:0:0:0:1', '2001:db8:0:1::1'],
      ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
      ['1:0:0:0:1:0:0:1', '1::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['::ffff:192.0.2.1', '192.0.2.1'], // one IPv4-mapped host is the IPv4 host its packets go to (a u32 match on the v6 form never matches)
      ['::ffff:0:0/96', '::ffff:0:0'], // a network is left as written
      ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
      ['0.0.0.0', '0.0.0.0'],
      ['255.255.255.255', '255.255.255.255'],
    ];
    for (const [text, canonical] of cases) assert.equal(parseCidr('V', text).address, canonical, text);
    // RFC 4291 2.5.5.1: `::1.2.3.4` (IPv4-compatible, deprecated) is ::102:304 for inet_pton and ::ffff:1.2.3.4 for ipaddr.js: refused.
    assert.throws(() => parseCidr('V', '::1.2.3.4'), /deprecated IPv4-compatible IPv6 address .*give the IPv4 address 1\.2\.3\.4/);
  });

  test('refused: what is not strictly an address, with the variable and the value in the message', () => {
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1.2.3.-1', '0x1.2.3.4', '1.2.3.4 /24', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9',
      '1::2::3', ':::', '1:::2', ':1::', '1::2:', '12345::', 'g::', 'fe80::1%eth0', '1:2:3:4:5:6:7::8', '::ffff:1.2.3', '::ffff:01.2.3.4', '1.2.3.4::', '', '/24']) {
      assert.throws(() => parseCidr('DESTINATION_IPS', bad),
        (e: unknown) => e instanceof UsageError && e.message.includes('DESTINATION_IPS') && e.message.includes(JSON.stringify(bad)), bad);
    }
  });

  test('prefixes: 0 to 32 / 128, host bits refused with the network to use instead', () => {
    assert.deepEqual(parseCidr('V', '192.0.2.0/24'), { family: 4, address: '192.0.2.0', prefix: 24 });
    assert.deepEqual(parseCidr('V', '::/0'), { family: 6, address: '::', prefix: 0 });
    assert.throws(() => parseCidr('V', '192.0.2.1/33'), /prefix length must be 0-32/);
    assert.throws(() => parseCidr('V', '2001:db8::/129'), /prefix length must be 0-128/);
    assert.throws(() => parseCidr('V', '192.0.2.128/24'), /host bits set; did you mean 192\.0\.2\.0\/24\?/);
    assert.throws(() => parseCidr('V', '2001:db8::1:0/111'), /host bits set; did you mean 2001:db8::\/111\?/);
  });

  test('10,000 random addresses and networks: the same canonical text and numbers as ipaddr.js', () => {
    const r = random(13);
    for (let i = 0; i < 10_000; i++) {
      const v6 = r(2) === 1;
      const bytes = Array.from({ length: v6 ? 16 : 4 }, () => (r(3) === 0 ? 0 : r(256)));
      const prefix = r(v6 ? 129 : 33);
      for (let bit = prefix; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
      const reference = ipaddr.fromByteArray(bytes);
      // Write IPv6 in the long form with random case and leading zeros: the parser must canonicalise it.
      const text = v6 && r(2) === 1
        ? (reference as ipaddr.IPv6).toNormalizedString().split(':').map((g) => (r(2) ? g.padStart(4, '0').toUpperCase() : g)).join(':')
        : reference.toString();
      const c = parseCidr('V', `${text}/${prefix}`);
      assert.equal(formatCidr(c), `${reference.toString()}/${prefix}`, text);
      const units = addressUnits(c);
      assert.deepEqual(units, Array.from({ length: bytes.length / 2 }, (_, k) => (bytes[2 * k]! << 8) | bytes[2 * k + 1]!), text);
      // The words the parser writes for the planner are those of the canonical address (its text read again).
      const words = new Uint32Array(8).fill(7);
      parseCidr('V', `${text}/${prefix}`, words, 4);
      const again = new Uint32Array(8).fill(7);
      addressWords(c, again, 4);
      assert.deepEqual(words, again, text);
    }
  });

  test('an IPv4-mapped host gets the IPv4 words it becomes', () => {
    const words = new Uint32Array(4).fill(7);
    assert.deepEqual(parseCidr('V', '::ffff:192.0.2.1', words), { family: 4, address: '192.0.2.1', prefix: 32 });
    assert.deepEqual([...words], [0xc0000201, 0, 0, 0]);
  });
});

describe('merging destinations into the fewest networks', () => {
  const planOf = (ips: string) => plan(buildSpec({
    get: (name: VariableName) => (name === 'DESTINATION_IPS' ? { value: ips, label: name } : name === 'NETWORK_LATENCY' ? { value: '100', label: name } : undefined),
    readFile: () => '',
  }));
  const networks = (ips: string): string[] => planOf(ips).entries.map((e) => (e.cidr ? formatCidr(e.cidr) : '*'));

  test('halves become the whole, repeatedly; neighbours that are not halves of one network stay apart', () => {
    assert.deepEqual(networks('10.0.0.0,10.0.0.1,10.0.0.2,10.0.0.3'), ['10.0.0.0/30']);
    assert.deepEqual(networks('10.0.0.1,10.0.0.2'), ['10.0.0.1/32', '10.0.0.2/32']);
    assert.deepEqual(networks('10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4'), ['10.0.0.1/32', '10.0.0.4/32', '10.0.0.2/31']);
    assert.deepEqual(networks('10.0.0.0/25,10.0.0.0/26,10.0.0.200,10.0.0.128/25'), ['10.0.0.0/24']);
    assert.deepEqual(networks('2001:db8::,2001:db8::1,2001:db8::2/127,::/0'), ['::/0']);
  });

  test('300 random sets in one /24: exactly the same addresses, no overlap, no two halves of one network left', () => {
    const r = random(7);
    for (let round = 0; round < 300; round++) {
      const items = Array.from({ length: 1 + r(12) }, () => {
        const prefix = 24 + r(9);
        const last = r(256) & ~((1 << (32 - prefix)) - 1) & 0xff;
        return `198.51.100.${last}/${prefix}`;
      });
      const covered = (nets: string[]): boolean[] => {
        const out = new Array<boolean>(256).fill(false);
        for (const n of nets) {
          const [addr, p] = n.split('/');
          const first = Number(addr!.split('.')[3]);
          for (let k = 0; k < 2 ** (32 - Number(p)); k++) {
            assert.ok(!out[first + k] || nets === items, `${n} overlaps another network (from ${items.join(',')})`);
            out[first + k] = true;
          }
        }
        return out;
      };
      const merged = networks(items.join(','));
      assert.deepEqual(covered(merged), covered(items), `${items.join(',')} → ${merged.join(',')}`);
      const set = new Set(merged);
      for (const n of merged) {
        const [addr, p] = n.split('/');
        const prefix = Number(p);
        if (prefix === 0) continue;
        const last = Number(addr!.split('.')[3]);
        const buddy = `198.51.100.${last ^ (1 << (32 - prefix))}/${prefix}`;
        assert.ok(!set.has(buddy), `${n} and ${buddy} should have been one /${prefix - 1} (from ${items.join(',')})`);
      }
      // The same plan from the parser's words as from each address's text read again (a group made without them).
      const s = buildSpec({ get: (name: VariableName) => (name === 'DESTINATION_IPS' ? { value: items.join(','), label: name } : name === 'NETWORK_LATENCY' ? { value: '100', label: name } : undefined), readFile: () => '' });
      assert.ok(s.groups[0]?.destinationWords, 'the parser keeps the words');
      const fromText = { ...s, groups: s.groups.map((g) => ({ name: g.name, netem: g.netem, destinations: g.destinations, destinationPorts: g.destinationPorts, sourcePorts: g.sourcePorts })) };
      assert.deepEqual(plan(s).apply, plan(fromText).apply, items.join(','));
      // And the tree sends exactly those addresses to the fault band.
      const t = new Tree(planOf(items.join(',')).apply);
      const inside = covered(items);
      for (let last = 0; last < 256; last += 17) assert.equal(t.classify({ dst: `198.51.100.${last}` }), inside[last] ? 4 : 'priomap');
    }
  });
});
