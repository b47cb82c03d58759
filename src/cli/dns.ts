import type { Command } from 'commander';
import { compileDns } from '../compile.js';
import { formatZone } from '../dns/index.js';
import { dns1123Subdomain } from '../validate/names.js';
import { UsageError } from './errors.js';
import { appendFile, readInputs } from './inputs.js';
import { addInputOptions, inputOptionsFrom, type RawInputFlags } from './input-options.js';
import { writeAtomically, writeStdout } from './output.js';
import { addUsageNotes } from './help.js';
import { printDiagnostics, warnIfNoObjects } from './report.js';

interface DnsFlags extends RawInputFlags {
  file: string[];
  clusterDomain: string;
  ttl: string;
  output?: string;
}

export function registerDns(program: Command): void {
  const command = program
    .command('dns')
    .description("print the DNS records CoreDNS's kubernetes plugin would serve for the manifests, as a zone file")
    .requiredOption('-f, --file <path>', "manifest file, folder (recursive) or '-' for stdin; repeatable", appendFile)
    .option('--cluster-domain <domain>', "the cluster's DNS domain (kubelet's clusterDomain)", 'cluster.local')
    .option('--ttl <seconds>', "the records' TTL (the kubernetes plugin's ttl option)", '5')
    .option('-o, --output <file>', 'write here (atomically) instead of stdout');
  addUsageNotes(command, '0 written, 1 invalid input (nothing written), 2 usage error.', [
    'kpc dns -f manifests/ --cluster-domain cluster.local -o cluster.zone',
    'kubectl get svc,endpointslices -A -o json | kpc dns -f - --ttl 30',
  ]);
  addInputOptions(command)
    .action(async (flags: DnsFlags) => {
      // Flags first: a usage error must not pass for an input error.
      const clusterDomain = parseDomain(flags.clusterDomain);
      const ttl = parseTtl(flags.ttl);
      const input = inputOptionsFrom(flags);
      const result = compileDns(await readInputs(flags.file), { clusterDomain, ttl, ...input });
      printDiagnostics(result.warnings);
      warnIfNoObjects(result.checked);
      const text = formatZone(result.zone);
      if (flags.output) await writeAtomically(flags.output, text);
      else await writeStdout(text);
    });
}

function parseDomain(text: string): string {
  const domain = text.replace(/\.$/, '');
  const problem = dns1123Subdomain(domain);
  if (problem) throw new UsageError(`--cluster-domain ${JSON.stringify(text)} ${problem}`);
  return domain;
}

/** CoreDNS accepts 0 to 3600 seconds for the kubernetes plugin's ttl. */
function parseTtl(text: string): number {
  if (!/^\d{1,4}$/.test(text) || Number(text) > 3600) throw new UsageError(`--ttl ${JSON.stringify(text)}: use whole seconds from 0 to 3600`);
  return Number(text);
}
