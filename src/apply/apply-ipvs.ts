import type { IpvsPart } from '../emit/ipvs/index.js';
import { checkIptables, commitIptables, prepareIptables, type IptablesJob } from './apply-iptables.js';
import type { ApplyContext } from './context.js';
import { ApplyError } from './errors.js';
import { CommandError, firstLines, mustRun, type Target, type Scratch } from './exec.js';
import { isOwnedSet, parseAddresses, parseIpsetSave, parseIpvsadmSave, planIpvs, wantedAddresses, type IpvsPlan, type IpvsState } from './ipvs.js';

/**
 * IPVS apply: the I/O around the planner in ipvs.ts. This kernel has no
 * IPVS; these code paths are exercised by the VM tests (test/vm), the plan
 * by unit tests.
 */
export interface IpvsJob {
  live: IpvsState;
  wanted: IpvsState;
  plan: IpvsPlan;
  iptables: IptablesJob[];
  serviceKeys: string[];
  /** ipvsadm -Sn text, live and as loaded in the scratch namespace (for the semantic diff). */
  saved: { before: string; wanted: string };
}

export async function readIpvsState(exec: Target['exec']): Promise<IpvsState & { text: string }> {
  const text = await mustRun(exec, ['ipvsadm', '-S', '-n']);
  const services = parseIpvsadmSave(text);
  const sets = parseIpsetSave(await mustRun(exec, ['ipset', 'save']));
  const link = await exec(['ip', '-j', 'addr', 'show', 'dev', 'kube-ipvs0']);
  const addresses = parseAddresses(link.exitCode === 0 ? link.stdout : null);
  return { services, sets, addresses, text };
}

function part(parts: IpvsPart[], name: IpvsPart['name']): string {
  return parts.find((p) => p.name === name)?.text ?? '';
}

/** Drops comments and blank lines: what a tool gets line by line. */
function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

/** Structural guards: each part may only name kpc's own objects. */
export function assertIpvsPartsSafe(parts: IpvsPart[]): void {
  for (const line of lines(part(parts, 'kube-ipvs0'))) {
    if (!/^(link add kube-ipvs0 type dummy|address add \S+ dev kube-ipvs0)$/.test(line)) throw new Error(`unexpected kube-ipvs0 line ${JSON.stringify(line)}`);
  }
  for (const line of lines(part(parts, 'ipset'))) {
    const [verb, name] = line.split(' ');
    if (!['create', 'flush', 'add'].includes(verb!) || !name || !isOwnedSet(name)) throw new Error(`unexpected ipset line ${JSON.stringify(line)}`);
  }
  for (const line of lines(part(parts, 'ipvsadm'))) {
    if (!/^-[Aa] (-t|-u|--sctp-service) \S+( \S+)*$/.test(line)) throw new Error(`unexpected ipvsadm line ${JSON.stringify(line)}`);
  }
}

export async function prepareIpvs(target: Target, sandbox: Scratch, parts: IpvsPart[], recorded: string[]): Promise<IpvsJob> {
  assertIpvsPartsSafe(parts);
  const live = await readIpvsState(target.exec);
  // The dry form: ipset and ipvsadm have no --test, so load everything into the scratch namespace.
  for (const [argv, text] of [
    [['ipset', 'restore', '-exist'], part(parts, 'ipset')],
    [['ipvsadm', '-R'], part(parts, 'ipvsadm')],
  ] as const) {
    const result = await sandbox.exec([...argv], { input: text });
    if (result.exitCode !== 0) throw new ApplyError(`the kernel rejects the generated IPVS rules (${argv.join(' ')} in a scratch namespace: ${firstLines(result.stderr)}); nothing was changed`);
  }
  const canonical = await readIpvsState(sandbox.exec);
  const wanted: IpvsState = { services: canonical.services, sets: canonical.sets, addresses: wantedAddresses(part(parts, 'kube-ipvs0')) };
  // Create lines as kpc writes them, not as ipset save prints them (with a random initval).
  const written = parseIpsetSave(part(parts, 'ipset'));
  for (const set of wanted.sets.values()) set.create = written.get(set.name)?.create ?? set.create;
  const iptables: IptablesJob[] = [];
  for (const p of parts) {
    if (p.name === 'iptables') iptables.push(await prepareIptables(target, sandbox, 4, 'iptables', p.text));
    if (p.name === 'ip6tables') iptables.push(await prepareIptables(target, sandbox, 6, 'ip6tables', p.text));
  }
  return { live, wanted, plan: planIpvs(live, wanted, recorded), iptables, serviceKeys: [...wanted.services.keys()].sort(), saved: { before: live.text, wanted: canonical.text } };
}

interface Step {
  what: string;
  undo: () => Promise<string[]>;
}

/**
 * Adds and edits first (old and new services both answer meanwhile), then
 * switches the iptables rules atomically, then deletes what is stale. A
 * failure before the switch undoes the steps already done, newest first; a
 * failure after it leaves the new rules working and names the stale objects
 * that are still there.
 */
export async function commitIpvs(ctx: ApplyContext, job: IpvsJob): Promise<string[]> {
  const { exec } = ctx.target;
  const { plan } = job;
  const done: Step[] = [];
  const changed: string[] = [];
  try {
    if (plan.addresses.length) {
      done.push({ what: 'kube-ipvs0 addresses', undo: () => eachLine(exec, ['ip', '-force', '-batch', '-'], plan.addressesUndo, true) });
      await mustRun(exec, ['ip', '-batch', '-'], { input: plan.addresses.join('\n') + '\n' });
      changed.push('kube-ipvs0 addresses');
    }
    if (plan.ipsets.length) {
      done.push({ what: 'ipsets', undo: () => eachLine(exec, ['ipset'], plan.ipsetsUndo) });
      await mustRun(exec, ['ipset', 'restore', '-exist'], { input: plan.ipsets.join('\n') + '\n' });
      changed.push('ipsets');
    }
    if (plan.services.length) {
      done.push({ what: 'IPVS services', undo: () => eachLine(exec, ['ipvsadm'], plan.servicesUndo) });
      await mustRun(exec, ['ipvsadm', '-R'], { input: plan.services.join('\n') + '\n' });
      changed.push('IPVS services');
    }
  } catch (error) {
    const why = error instanceof CommandError ? error.message : String(error);
    throw new ApplyError(`${why}; ${await undo(done)}`);
  }
  try {
    // Checked only now: the rules match ipsets that exist from the step before.
    for (const j of job.iptables) await checkIptables(ctx, j);
    changed.push(...(await commitIptables(ctx, job.iptables)));
  } catch (error) {
    throw new ApplyError(`${(error as Error).message}; ${await undo(done)}`);
  }
  const leftovers: string[] = [];
  for (const [argv, list, what] of [
    [['ipvsadm', '-R'], plan.staleServices, 'stale IPVS services'],
    [['ipset', 'restore', '-exist'], plan.staleIpsets, 'stale ipsets'],
    [['ip', '-force', '-batch', '-'], plan.staleAddresses, 'stale kube-ipvs0 addresses'],
  ] as const) {
    if (!list.length) continue;
    const result = await exec([...argv], { input: list.join('\n') + '\n' });
    if (result.exitCode === 0) changed.push(`${what} removed`);
    else leftovers.push(`${what} (${firstLines(result.stderr, 2)})`);
  }
  if (leftovers.length) {
    throw new ApplyError(`the new IPVS rules are in place and working, but removing these failed: ${leftovers.join('; ')}; they are left as they were, and the next apply retries`);
  }
  return changed;
}

/** Runs undo lines one command each (or one forced ip batch), going on past lines that fail. */
async function eachLine(exec: Target['exec'], argv: readonly string[], list: string[], batch = false): Promise<string[]> {
  const failed: string[] = [];
  if (batch) {
    const result = await exec([...argv], { input: list.join('\n') + '\n' });
    if (result.exitCode !== 0) failed.push(firstLines(result.stderr, 2));
    return failed;
  }
  for (const line of list) {
    const result = await exec([...argv, ...line.split(' ')]);
    if (result.exitCode !== 0) failed.push(`${argv.join(' ')} ${line}: ${firstLines(result.stderr, 1)}`);
  }
  return failed;
}

async function undo(done: Step[]): Promise<string> {
  if (!done.length) return 'nothing had been changed';
  const failed: string[] = [];
  for (const step of [...done].reverse()) failed.push(...(await step.undo()));
  const what = done.map((s) => s.what).join(', ');
  if (failed.length) return `undoing the changes to ${what} was incomplete (${failed.slice(0, 5).join('; ')}); run kpc apply again`;
  return `the changes to ${what} were undone: the previous IPVS rules are in place`;
}
