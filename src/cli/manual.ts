import type { Command, Option } from 'commander';
import { writeStdout } from './output.js';

/**
 * `kpc manual`: the man page, made from the commands, flags and help texts as
 * registered, so it says what --help says. The build writes it to man/kpc.1,
 * which npm installs as `man kpc`.
 */
export function registerManual(program: Command): void {
  program
    .command('manual')
    .description('print the man page (roff), as installed for man kpc')
    .addHelpText('after', '\nExit status: 0 printed.\n\nExamples:\n  kpc manual > kpc.1\n  kpc manual | man -l -')
    .action(async () => {
      await writeStdout(manPage(program));
    });
}

export function manPage(program: Command): string {
  const lines = [
    `.TH KPC 1 "" "kpc ${program.version() ?? ''}" "User Commands"`,
    '.SH NAME',
    `kpc \\- ${roff(program.description())}`,
    '.SH SYNOPSIS',
    '.B kpc',
    '.I command',
    '[\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    roff(
      "kpc reads Kubernetes manifests (Service, EndpointSlice, Endpoints, Pod, Node, ServiceCIDR and kube-proxy's KubeProxyConfiguration) and writes, for one node, the rules kube-proxy would program there: an iptables-restore script, an IPVS rule set, or an nftables file. It compares rule sets by meaning, explains a packet's path, and applies rules to a Linux host.",
    ),
    '.SH COMMANDS',
  ];
  for (const command of program.commands.filter((c) => c.name() !== 'manual')) {
    const args = command.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}${a.variadic ? '...' : ''}]`)).join(' ');
    lines.push('.SS', `.B kpc ${command.name()}${args ? ` ${roff(args)}` : ''}`, roff(command.description()));
    for (const option of command.options) lines.push('.TP', `.B ${roff(option.flags)}`, roff(describe(option)));
    const after = helpAfter(command);
    if (after) lines.push('.PP', '.nf', roff(after), '.fi');
  }
  lines.push(
    '.SH EXIT STATUS',
    roff('0 success; 1 invalid input or a failed apply; 2 usage error. kpc diff follows diff(1): 0 same, 1 different, 2 trouble.'),
    '.SH SEE ALSO',
    '.BR iptables-restore (8),',
    '.BR nft (8),',
    '.BR ipvsadm (8)',
  );
  return `${lines.join('\n')}\n`;
}

function describe(option: Option): string {
  const value = option.defaultValue;
  const shown = value === undefined || typeof value === 'boolean' || (Array.isArray(value) && value.length === 0) ? '' : ` (default ${JSON.stringify(value)})`;
  return `${option.description}${shown}`;
}

/** The text a command adds after its --help (exit statuses, examples). */
function helpAfter(command: Command): string {
  let text = '';
  const capture = { writeOut: (s: string) => (text += s), writeErr: () => {} };
  const saved = command.configureOutput();
  command.configureOutput(capture);
  command.outputHelp();
  command.configureOutput(saved);
  const at = text.search(/\nExit status:/);
  return at < 0 ? '' : text.slice(at + 1).trimEnd();
}

/** Text as roff reads it: backslashes doubled, a leading dot or quote made literal. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line).replace(/-/g, '\\-'))
    .join('\n');
}
