/**
 * Smoke test of the VM harness: boots the VM and, inside it, builds a
 * kube-proxy-IPVS-mode-like node (VIPs on a dummy kube-ipvs0, IPVS NAT to
 * real servers in their own namespaces, ipset + iptables nat for
 * masquerading), then sends TCP and UDP from a client namespace through the
 * virtual services and checks who answered and which source they saw.
 *
 * Skips with a printed reason when no VM can be had (no qemu, no kernel,
 * no apt), except with CI=true, where that is a failure.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { parseEchoReplies, runInVm, splitSections, vmAvailability, type RunInVmResult, type VmImage } from './vm.js';

const IN_CI = process.env.CI === 'true';

const IPVS_RULES = `-A -t 10.96.0.10:80 -s rr
-a -t 10.96.0.10:80 -r 10.244.1.2:8080 -m -w 1
-a -t 10.96.0.10:80 -r 10.244.2.2:8080 -m -w 1
-A -u 10.96.0.10:53 -s rr
-a -u 10.96.0.10:53 -r 10.244.1.2:5353 -m -w 1
-a -u 10.96.0.10:53 -r 10.244.2.2:5353 -m -w 1
-A -t 10.96.0.11:80 -s rr
-a -t 10.96.0.11:80 -r 10.244.1.2:8080 -m -w 1
-a -t 10.96.0.11:80 -r 10.244.2.2:8080 -m -w 1
`;

// 10.96.0.10's ports are masqueraded (in the set), 10.96.0.11's are not.
const IPSET_RULES = `create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-CLUSTER-IP 10.96.0.10,tcp:80
add KUBE-CLUSTER-IP 10.96.0.10,udp:53
`;

const IPTABLES_NAT = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
COMMIT
`;

// dash. Sections ("### name") are parsed by the test.
const SCRIPT = `set -eu
echo "### modules"
modprobe ip_vs
for s in rr wrr lc wlc lblc lblcr dh sh sed nq mh; do modprobe ip_vs_$s; done
modprobe sctp && kpc-echo probe-sctp
echo "schedulers=ok"

# node <-> client, node <-> rs1, node <-> rs2 (veth pairs); VIPs on the
# node's dummy kube-ipvs0 (left down, as kube-proxy does).
for ns in node client rs1 rs2; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add veth-cli netns node type veth peer name eth0 netns client
ip link add veth-rs1 netns node type veth peer name eth0 netns rs1
ip link add veth-rs2 netns node type veth peer name eth0 netns rs2
ip -n node addr add 10.0.0.1/24 dev veth-cli
ip -n node addr add 10.244.1.1/24 dev veth-rs1
ip -n node addr add 10.244.2.1/24 dev veth-rs2
for d in veth-cli veth-rs1 veth-rs2; do ip -n node link set $d up; done
ip -n client addr add 10.0.0.2/24 dev eth0
ip -n rs1 addr add 10.244.1.2/24 dev eth0
ip -n rs2 addr add 10.244.2.2/24 dev eth0
for ns in client rs1 rs2; do ip -n $ns link set eth0 up; done
ip -n client route add default via 10.0.0.1
ip -n rs1 route add default via 10.244.1.1
ip -n rs2 route add default via 10.244.2.1
ip -n node link add kube-ipvs0 type dummy
ip -n node addr add 10.96.0.10/32 dev kube-ipvs0
ip -n node addr add 10.96.0.11/32 dev kube-ipvs0
ip netns exec node sysctl -qw net.ipv4.ip_forward=1 net.ipv4.vs.conntrack=1

ip netns exec rs1 kpc-echo server -n rs1 -t 8080 -u 5353 -D
ip netns exec rs2 kpc-echo server -n rs2 -t 8080 -u 5353 -D

echo "### ipvs-restore"
ip netns exec node ipvsadm -R < ipvs.rules
ip netns exec node ipvsadm -S -n
echo "### ipset-restore"
ip netns exec node ipset restore < ipset.rules
ip netns exec node ipset save
echo "### iptables-restore"
ip netns exec node iptables-restore < iptables.rules
ip netns exec node iptables-save -t nat | grep -v '^#'
iptables --version

echo "### tcp-masq"
ip netns exec client kpc-echo client -p tcp -c 4 -m tcp-masq 10.96.0.10 80
echo "### udp-masq"
ip netns exec client kpc-echo client -p udp -c 4 -m udp-masq 10.96.0.10 53
echo "### tcp-direct"
ip netns exec client kpc-echo client -p tcp -c 2 -m tcp-direct 10.96.0.11 80
echo "### ipvs-conns"
ip netns exec node ipvsadm -L -n -c
echo "### masq-counter"
ip netns exec node iptables -t nat -L KUBE-POSTROUTING -n -v -x | awk '/MASQUERADE/ {print "masq_packets=" $1}'
echo "### end"
`;

interface Avail {
  ok: boolean;
  reason?: string;
  image?: VmImage;
}
let avail: Avail = { ok: false, reason: 'not probed' };

describe('VM harness (IPVS in a real kernel)', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    avail = await vmAvailability({ timeoutMs: 240_000 });
    console.log(`[vm.test] VM image ready in ${Date.now() - t0} ms${avail.image ? `: ${avail.image.dir}` : ''}`);
    if (!avail.ok) {
      const msg = `[vm.test] ${IN_CI ? 'FAIL (CI=true)' : 'SKIP'}: no VM can be run here: ${avail.reason}`;
      console.warn(msg);
    }
  }, 270_000);

  test('boots, loads ip_vs, restores ipvsadm/ipset/iptables rules and balances TCP+UDP through IPVS', async (ctx) => {
    if (!avail.ok) {
      if (IN_CI) throw new Error(`VM harness unavailable in CI: ${avail.reason}`);
      ctx.skip();
      return;
    }
    const r: RunInVmResult = await runInVm({
      script: SCRIPT,
      files: { 'ipvs.rules': IPVS_RULES, 'ipset.rules': IPSET_RULES, 'iptables.rules': IPTABLES_NAT },
      timeoutMs: 120_000,
    });
    console.log(
      `[vm.test] kernel ${r.kernelVersion}: boot ${r.bootMs} ms (guest uptime ${r.guestBootSeconds} s at /init), ` +
        `whole run ${r.totalMs} ms`,
    );
    const ctxMsg = `exit ${r.exitCode}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
    expect(r.exitCode, ctxMsg).toBe(0);
    const s = splitSections(r.stdout);
    expect(Object.keys(s), ctxMsg).toContain('end');

    expect(s.modules).toContain('schedulers=ok');
    console.log(`[vm.test] ${s.modules.match(/sctp=.*/)?.[0] ?? 'sctp=?'}`);

    // Rules went into the kernel as given.
    expect(s['ipvs-restore']).toContain('-A -t 10.96.0.10:80 -s rr');
    expect(s['ipvs-restore']).toContain('-a -t 10.96.0.10:80 -r 10.244.2.2:8080 -m -w 1');
    expect(s['ipvs-restore']).toContain('-A -u 10.96.0.10:53 -s rr');
    expect(s['ipset-restore']).toContain('add KUBE-CLUSTER-IP 10.96.0.10,tcp:80');
    expect(s['iptables-restore']).toContain('--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ');

    // TCP to the masqueraded VIP: round robin over both real servers, each
    // reached on its own address (IPVS DNAT), each seeing the node's address
    // on its link as the source (ipset match -> MARK -> MASQUERADE).
    const tcp = parseEchoReplies(s['tcp-masq']);
    expect(tcp, s['tcp-masq']).toHaveLength(4);
    expect(new Set(tcp.map((x) => x.name))).toEqual(new Set(['rs1', 'rs2']));
    expect(tcp[0].name).not.toBe(tcp[1].name);
    for (const x of tcp) {
      const n = x.name === 'rs1' ? 1 : 2;
      expect(x.fields.local).toBe(`10.244.${n}.2:8080`);
      expect(x.fields.peer).toMatch(new RegExp(`^10\\.244\\.${n}\\.1:\\d+$`));
      expect(x.fields.msg).toBe('tcp-masq');
    }

    // UDP likewise (the client's socket is connected: the replies came back
    // from the VIP, i.e. IPVS un-NATed them).
    const udp = parseEchoReplies(s['udp-masq']);
    expect(udp, s['udp-masq']).toHaveLength(4);
    expect(new Set(udp.map((x) => x.name))).toEqual(new Set(['rs1', 'rs2']));
    for (const x of udp) {
      const n = x.name === 'rs1' ? 1 : 2;
      expect(x.fields.proto).toBe('udp');
      expect(x.fields.local).toBe(`10.244.${n}.2:5353`);
      expect(x.fields.peer).toMatch(new RegExp(`^10\\.244\\.${n}\\.1:\\d+$`));
    }

    // The VIP not in the set: no masquerade, real servers see the client.
    const direct = parseEchoReplies(s['tcp-direct']);
    expect(direct, s['tcp-direct']).toHaveLength(2);
    expect(new Set(direct.map((x) => x.name))).toEqual(new Set(['rs1', 'rs2']));
    for (const x of direct) expect(x.fields.peer).toMatch(/^10\.0\.0\.2:\d+$/);

    expect(s['masq-counter']).toMatch(/masq_packets=[1-9]/);
  }, 150_000);
});
