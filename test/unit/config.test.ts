import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { UsageErrors } from '../../src/model/errors.ts';
import { variables, type VariableName } from '../../src/config/vars.ts';
import { UNPRINTABLE, UNPRINTABLE_BUT_LINE_ENDS } from '../../src/config/values.ts';
import { run } from '../../src/cli/main.ts';
import { specOf as spec } from '../support/spec.ts';
import { fakeDeps } from '../support/fake-ports.ts';

/** The messages of the UsageErrors a bad input raises. */
function problems(env: Partial<Record<VariableName, string>>): string[] {
  try {
    spec(env);
  } catch (error) {
    if (error instanceof UsageErrors) return error.errors.map((e) => e.message);
    throw error;
  }
  assert.fail(`expected bad input to be rejected: ${JSON.stringify(env)}`);
}

function rejects(env: Partial<Record<VariableName, string>>, ...expected: RegExp[]): void {
  const messages = problems(env);
  for (const re of expected) assert.ok(messages.some((m) => re.test(m)), `no message matches ${re}; got:\n${messages.join('\n')}`);
}

describe('defaults are litmus-go pod-network-latency defaults', () => {
  test('an empty environment gives 2000 ms on all egress traffic of eth0 for 60 s', () => {
    const s = spec({});
    assert.equal(s.interface, 'eth0');
    assert.equal(s.durationS, 60);
    assert.equal(s.rampS, 0);
    assert.equal(s.force, false);
    assert.equal(s.groups.length, 1);
    const g = s.groups[0]!;
    assert.equal(g.netem.delayMs, 2000);
    assert.equal(g.netem.jitterMs, 0);
    assert.deepEqual(g.destinations, []);
  });
  test('empty strings count as unset (Litmus passes "" for unset variables)', () => {
    const s = spec({ NETWORK_LATENCY: '', RAMP_TIME: '', DESTINATION_IPS: '', TOTAL_CHAOS_DURATION: '' });
    assert.equal(s.groups[0]?.netem.delayMs, 2000);
    assert.equal(s.durationS, 60);
  });
  test('every variable has a doc, a flag and a default that parses', () => {
    for (const v of variables) {
      assert.ok(v.doc.length > 10, v.env);
      assert.match(v.flag, /^--[a-z-]+( <[a-z]+>)?$/, v.env);
    }
    assert.doesNotThrow(() => spec(Object.fromEntries(variables.map((v) => [v.env, v.default]))));
  });
});

describe('values', () => {
  test('every fault setting is read', () => {
    const s = spec({
      NETWORK_LATENCY: '150.5', JITTER: '10', CORRELATION: '25', DELAY_DISTRIBUTION: 'Pareto',
      NETWORK_PACKET_LOSS_PERCENTAGE: '5', NETWORK_PACKET_DUPLICATION_PERCENTAGE: '1.5',
      NETWORK_PACKET_CORRUPTION_PERCENTAGE: '0.1', NETWORK_PACKET_REORDER_PERCENTAGE: '20',
      NETWORK_BANDWIDTH: '1MBit', NETWORK_INTERFACE: 'net1', TOTAL_CHAOS_DURATION: '5m', RAMP_TIME: '10', FORCE: 'TRUE',
    });
    assert.deepEqual(s.groups[0]?.netem, {
      delayMs: 150.5, jitterMs: 10, correlationPct: 25, distribution: 'pareto', lossPct: 5, duplicatePct: 1.5,
      corruptPct: 0.1, reorderPct: 20, rate: { value: 1, unit: 'mbit' },
    });
    assert.equal(s.interface, 'net1');
    assert.equal(s.durationS, 300);
    assert.equal(s.rampS, 10);
    assert.equal(s.force, true);
  });
  test('destinations: IPv4, IPv6, CIDRs, per-item ports, canonical forms', () => {
    const s = spec({ DESTINATION_IPS: '192.0.2.10|8080|443, 2001:DB8:0:0::1 ,198.51.100.0/24,2001:db8::/32' });
    assert.deepEqual(s.groups[0]?.destinations, [
      { cidr: { family: 4, address: '192.0.2.10', prefix: 32 }, ports: [443, 8080] },
      { cidr: { family: 6, address: '2001:db8::1', prefix: 128 }, ports: [] },
      { cidr: { family: 4, address: '198.51.100.0', prefix: 24 }, ports: [] },
      { cidr: { family: 6, address: '2001:db8::', prefix: 32 }, ports: [] },
    ]);
  });
  test('port lists: only, except (!), any', () => {
    const s = spec({ DESTINATION_IPS: '192.0.2.10', DESTINATION_PORTS: '9090,80', SOURCE_PORTS: '!22,2379' });
    assert.deepEqual(s.groups[0]?.destinationPorts, { mode: 'only', ports: [80, 9090] });
    assert.deepEqual(s.groups[0]?.sourcePorts, { mode: 'except', ports: [22, 2379] });
  });
  test('DESTINATION_IPS_FILE adds one item per line, with comments', () => {
    const s = spec({ DESTINATION_IPS: '192.0.2.1', DESTINATION_IPS_FILE: '/d.txt' }, { '/d.txt': '# deps\n198.51.100.7|53\n\n2001:db8::7 # v6\n' });
    assert.deepEqual(s.groups[0]?.destinations.map((d) => d.cidr.address), ['192.0.2.1', '198.51.100.7', '2001:db8::7']);
  });
  test('DESTINATION_IPS_FILE: CRLF lines, whitespace and control characters in comments are fine; one elsewhere names its line', () => {
    const file = (text: string) => spec({ DESTINATION_IPS_FILE: '/d.txt' }, { '/d.txt': text }).groups[0]?.destinations.map((d) => `${d.cidr.address}/${d.cidr.prefix}|${d.ports.join('|')}`);
    const expected = ['198.51.100.7/32|53', '2001:db8::7/128|', '192.0.2.0/24|'];
    assert.deepEqual(file('# deps\r\n198.51.100.7|53\r\n\r\n2001:db8::7 # v6\r\n192.0.2.0/24\r\n'), expected);
    assert.deepEqual(file('\t198.51.100.7 | 53 \n # a tab\there; and a \u0001\n2001:DB8:0::7\t# v6 ;\n192.0.2.0/24\r'), expected);
    const refused = (text: string, re: RegExp): void => {
      try {
        spec({ DESTINATION_IPS_FILE: '/d.txt' }, { '/d.txt': text });
      } catch (error) {
        assert.ok(error instanceof UsageErrors);
        assert.match(error.errors.map((e) => e.message).join('\n'), re);
        return;
      }
      assert.fail(`accepted ${JSON.stringify(text)}`);
    };
    refused('192.0.2.1\n192.0.2.2\t|53\n', /DESTINATION_IPS_FILE \/d\.txt:2: control character U\+0009/);
    refused('192.0.2.1\n192.0.2.2;192.0.2.3\n', /DESTINATION_IPS_FILE \/d\.txt:2: ";" is not allowed/);
    refused('192.0.2.1\r192.0.2.2\n', /DESTINATION_IPS_FILE \/d\.txt:1: control character U\+000d/);
    refused('192.0.2.1\n\n192.0.2.300\n', /DESTINATION_IPS_FILE \/d\.txt:3: "192\.0\.2\.300" is not an IPv4/);
    refused('192.0.2.1\n192.0.2.7/24\n', /DESTINATION_IPS_FILE \/d\.txt:2: "192\.0\.2\.7\/24" has host bits set/);
    refused('192.0.2.1,,192.0.2.2\n', /DESTINATION_IPS_FILE \/d\.txt:1: empty item/);
  });
  test('DESTINATION_IPS_FILE: the one look at the whole text finds what UNPRINTABLE finds once LF and CRLF are taken out', () => {
    const chars = ['a', '\n', '\r', ';', '\t', '\u007f', '\u0000', '\u000b', '\u000c', '\u000e', '\u001f', ' ', '#'];
    const check = (text: string, depth: number): void => {
      assert.equal(UNPRINTABLE_BUT_LINE_ENDS.test(text), UNPRINTABLE.test(text.replace(/\r?\n/g, '')), JSON.stringify(text));
      if (depth < 4) for (const c of chars) check(text + c, depth + 1);
    };
    check('', 0);
  });
});

describe('UNRESOLVED_HOSTS', () => {
  test('fail by default; skip is carried with the named destinations (so a helper pod reads it too)', () => {
    assert.equal(spec({ DESTINATION_HOSTS: 'api' }).groups[0]?.named?.skipUnresolved, undefined);
    assert.equal(spec({ DESTINATION_HOSTS: 'api', UNRESOLVED_HOSTS: 'Skip' }).groups[0]?.named?.skipUnresolved, true);
  });
});

describe('several faults in one run (FAULTS)', () => {
  test('groups get their own fault; the Litmus form is skipped when it names nothing', () => {
    const s = spec({ FAULTS: 'latency=100,jitter=10@192.0.2.11|8080,2001:db8::11  loss=5@192.0.2.12' });
    assert.equal(s.groups.length, 2);
    assert.equal(s.groups[0]?.name, 'FAULTS #1');
    assert.equal(s.groups[0]?.netem.delayMs, 100);
    assert.equal(s.groups[0]?.netem.jitterMs, 10);
    assert.equal(s.groups[0]?.destinations.length, 2);
    assert.equal(s.groups[1]?.netem.lossPct, 5);
    assert.equal(s.groups[1]?.netem.delayMs, 0, 'group settings do not inherit NETWORK_LATENCY');
  });
  test('the Litmus form is kept next to FAULTS when it names destinations', () => {
    const s = spec({ DESTINATION_IPS: '192.0.2.13', NETWORK_LATENCY: '50', FAULTS: 'corruption=1@192.0.2.12' });
    assert.deepEqual(s.groups.map((g) => g.name), ['DESTINATION_IPS', 'FAULTS #1']);
  });
  test('malformed groups name the group', () => {
    rejects({ FAULTS: 'latency=100' }, /FAULTS group 1 .*<fault>@<destinations>/);
    rejects({ FAULTS: 'latency=100@' }, /group 1.*no destinations/);
    rejects({ FAULTS: 'delay=100@192.0.2.1' }, /unknown fault setting "delay=100"/);
    rejects({ FAULTS: 'latency=1,latency=2@192.0.2.1' }, /latency is given twice/);
    rejects({ FAULTS: 'loss=5@192.0.2.1 loss=500@192.0.2.2' }, /group 2.*loss.*at most 100/);
    rejects({ FAULTS: 'latency=0@192.0.2.1' }, /does nothing/);
    rejects({ FAULTS: 'latency=1@192.0.2.1@x' }, /one "@" per group/);
  });
});

describe('bad input names the variable and the value', () => {
  const cases: [Partial<Record<VariableName, string>>, RegExp][] = [
    [{ NETWORK_LATENCY: '-5' }, /NETWORK_LATENCY: expected a non-negative number of milliseconds, got "-5"/],
    [{ DESTINATION_HOSTS: 'api', UNRESOLVED_HOSTS: 'ignore' }, /UNRESOLVED_HOSTS: expected one of fail, skip, got "ignore"/],
    [{ NETWORK_LATENCY: 'abc' }, /NETWORK_LATENCY: .*"abc"/],
    [{ NETWORK_LATENCY: '1e3' }, /NETWORK_LATENCY: .*"1e3"/],
    [{ NETWORK_LATENCY: '99999999' }, /NETWORK_LATENCY: must be at most 3600000/],
    [{ JITTER: '-1' }, /JITTER: .*"-1"/],
    [{ CORRELATION: '101', JITTER: '5' }, /CORRELATION: must be at most 100/],
    [{ NETWORK_PACKET_LOSS_PERCENTAGE: '100.5' }, /NETWORK_PACKET_LOSS_PERCENTAGE: must be at most 100/],
    [{ NETWORK_PACKET_DUPLICATION_PERCENTAGE: 'x' }, /NETWORK_PACKET_DUPLICATION_PERCENTAGE: .*"x"/],
    [{ NETWORK_PACKET_CORRUPTION_PERCENTAGE: '-0.1' }, /NETWORK_PACKET_CORRUPTION_PERCENTAGE/],
    [{ NETWORK_PACKET_REORDER_PERCENTAGE: '200' }, /NETWORK_PACKET_REORDER_PERCENTAGE/],
    [{ DESTINATION_IPS: '300.1.1.1' }, /DESTINATION_IPS: "300.1.1.1" is not an IPv4 or IPv6 address/],
    [{ DESTINATION_IPS: '10.1' }, /DESTINATION_IPS: "10.1" is not/],
    [{ DESTINATION_IPS: '0x0a.0.0.1' }, /DESTINATION_IPS: "0x0a.0.0.1" is not/],
    [{ DESTINATION_IPS: 'fe80::1%eth0' }, /DESTINATION_IPS: "fe80::1%eth0" is not/],
    [{ DESTINATION_IPS: '192.0.2.0/33' }, /DESTINATION_IPS: "192.0.2.0\/33": an IPv4 prefix length must be 0-32/],
    [{ DESTINATION_IPS: '2001:db8::/129' }, /an IPv6 prefix length must be 0-128/],
    [{ DESTINATION_IPS: '192.0.2.7/24' }, /host bits set; did you mean 192.0.2.0\/24/],
    [{ DESTINATION_IPS: '192.0.2.1,,192.0.2.2' }, /DESTINATION_IPS: empty item/],
    [{ DESTINATION_IPS: '192.0.2.1,' }, /DESTINATION_IPS: empty item/],
    [{ DESTINATION_IPS: '192.0.2.1|0' }, /DESTINATION_IPS: a port must be a whole number from 1 to 65535, got "0"/],
    [{ DESTINATION_IPS: '192.0.2.1|70000' }, /got "70000"/],
    [{ DESTINATION_IPS: '192.0.2.1|' }, /empty port/],
    [{ DESTINATION_PORTS: '80,,81' }, /DESTINATION_PORTS: empty item/],
    [{ DESTINATION_PORTS: '0' }, /DESTINATION_PORTS: a port/],
    [{ SOURCE_PORTS: '!' }, /SOURCE_PORTS: empty item/],
    [{ SOURCE_PORTS: '65536' }, /SOURCE_PORTS/],
    [{ TOTAL_CHAOS_DURATION: 'abc' }, /TOTAL_CHAOS_DURATION: expected a duration in seconds/],
    [{ TOTAL_CHAOS_DURATION: '0' }, /TOTAL_CHAOS_DURATION: must be between 1 s/],
    [{ TOTAL_CHAOS_DURATION: '-60' }, /TOTAL_CHAOS_DURATION/],
    [{ RAMP_TIME: '1.5' }, /RAMP_TIME/],
    [{ DELAY_DISTRIBUTION: 'gauss', JITTER: '5' }, /DELAY_DISTRIBUTION: unknown distribution "gauss"/],
    [{ DELAY_DISTRIBUTION: 'normal' }, /DELAY_DISTRIBUTION: a normal distribution needs a jitter above 0/],
    [{ NETWORK_LATENCY: '0', JITTER: '5' }, /JITTER: jitter needs a latency above 0/],
    [{ NETWORK_LATENCY: '0', NETWORK_PACKET_REORDER_PERCENTAGE: '5', NETWORK_PACKET_LOSS_PERCENTAGE: '1' }, /NETWORK_PACKET_REORDER_PERCENTAGE: reordering needs a latency/],
    [{ NETWORK_LATENCY: '0' }, /NETWORK_LATENCY: the fault does nothing/],
    [{ NETWORK_BANDWIDTH: '10' }, /NETWORK_BANDWIDTH: expected a rate like 1mbit/],
    [{ NETWORK_BANDWIDTH: '0mbit' }, /NETWORK_BANDWIDTH/],
    [{ NETWORK_INTERFACE: 'eth0 root' }, /NETWORK_INTERFACE: "eth0 root" is not a valid interface name/],
    [{ NETWORK_INTERFACE: 'a-very-long-interface' }, /NETWORK_INTERFACE/],
    [{ FORCE: 'maybe' }, /FORCE: expected true or false, got "maybe"/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ OUTPUT: 'yaml' }, /OUTPUT/],
    [{ DESTINATION_IPS_FILE: '/nope' }, /DESTINATION_IPS_FILE: cannot read "\/nope"/],
  ];
  for (const [env, re] of cases) {
    test(`${JSON.stringify(env)} → ${re.source.slice(0, 60)}`, () => { rejects(env, re); });
  }
  test('a newline or ";" in any value is rejected, naming the variable', () => {
    // Litmus-only variables are read by buildLitmusSpec (test/unit/litmus-env.test.ts); ';'-separated lists allow ';'.
    for (const v of variables.filter((x) => !('litmusOnly' in x && x.litmusOnly))) {
      rejects({ [v.env]: `${v.default || '1'}\nqdisc del dev eth0 root` }, new RegExp(`^${v.env}: control character U\\+000a`));
      if (!('semicolonList' in v && v.semicolonList)) rejects({ [v.env]: `${v.default || '1'};reboot` }, new RegExp(`^${v.env}: ";" is not allowed`));
    }
  });
  test('all problems are reported at once', () => {
    const messages = problems({ NETWORK_LATENCY: 'x', TOTAL_CHAOS_DURATION: 'y', DESTINATION_IPS: 'z' });
    assert.equal(messages.length, 3, messages.join('\n'));
  });
});

describe('the planner\'s rules that the input alone decides are refused here (exit 2, before anything runs)', () => {
  test('one destination given two different faults: the variable and the value', () => {
    rejects({ FAULTS: 'latency=100@192.0.2.11 loss=5@192.0.2.11' }, /^FAULTS: 192.0.2.11\/32 is given two different faults \(in FAULTS #1 and FAULTS #2\)/);
    rejects({ DESTINATION_IPS: '192.0.2.0/25,192.0.2.128/25', NETWORK_LATENCY: '100', FAULTS: 'loss=5@192.0.2.0/24' }, /^FAULTS: 192.0.2.0\/24 is given two different faults \(in DESTINATION_IPS and FAULTS #1\)/);
    rejects({ DESTINATION_IPS: '192.0.2.11,192.0.2.11|22', DESTINATION_PORTS: '!22' }, /^FAULTS: 192.0.2.11\/32 dport 22 is given two different faults/);
    assert.doesNotThrow(() => spec({ FAULTS: 'latency=100@192.0.2.11 latency=100@192.0.2.11' }), 'the same fault twice is one entry');
  });
  test('duplication next to another fault (the kernel refuses it, measured on 6.1): the groups and their faults', () => {
    rejects({ FAULTS: 'duplication=5@192.0.2.11 latency=100@192.0.2.12' }, /^FAULTS: duplication cannot share a tree with other faults \(FAULTS #1: 5% duplicated; FAULTS #2: \+100ms\)/);
    assert.doesNotThrow(() => spec({ FAULTS: 'duplication=5@192.0.2.11 duplication=5@192.0.2.12' }));
  });
  test('at most 13 fault profiles fit in one prio qdisc: the group that is one too many', () => {
    const groups = Array.from({ length: 14 }, (_, i) => `latency=${i + 1}@192.0.2.${i + 1}`).join(' ');
    rejects({ FAULTS: groups }, /^FAULTS: at most 13 different fault profiles fit in one prio qdisc \(16 bands\), and FAULTS #14 \(\+14ms\) is the 14th/);
    assert.equal(spec({ FAULTS: groups.split(' ').slice(0, 13).join(' ') }).groups.length, 13);
  });
  test('netchaos plan and inject exit 2 on them, nothing run', async () => {
    for (const command of ['plan', 'inject']) {
      const f = fakeDeps();
      let stderr = '';
      const code = await run([command, '--pid', '4242', '--fault', 'latency=100@192.0.2.11', '--fault', 'loss=5@192.0.2.11'], { stdout: () => {}, stderr: (t) => { stderr += t; }, env: {} }, () => f.host);
      assert.equal(code, 2, stderr);
      assert.match(stderr, /nothing was changed:\n {2}FAULTS: 192.0.2.11\/32 is given two different faults/);
      assert.deepEqual(f.ns.calls, []);
    }
  });
});
