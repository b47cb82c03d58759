import type { Command } from 'commander';
import { compileGraph } from '../compile.js';
import { buildPicture, renderDot, renderMermaid } from '../picture/index.js';
import { dotToSvg } from './graphviz.js';
import { appendFile, readInputs } from './inputs.js';
import { addNodeOptions, checkNodeFlags, nodeOptionsFrom, type RawNodeFlags } from './node-options.js';
import { writeAtomically, writeStdout } from './output.js';
import { outputTarget } from './output-target.js';
import { printDiagnostics, printSimulation } from './report.js';

const FORMATS = ['dot', 'mermaid', 'json', 'svg'];

interface GraphFlags extends RawNodeFlags {
  file: string[];
  format?: string;
  output?: string;
}

export function registerGraph(program: Command): void {
  const command = program
    .command('graph')
    .description('draw the routing graph: frontends, service ports, endpoints by node, cluster/local policy, what is rejected or dropped')
    .requiredOption('-f, --file <path>', "manifest file, folder (recursive) or '-' for stdin; repeatable", appendFile)
    .option('--format <format>', `${FORMATS.join(', ')} (svg runs Graphviz's dot); default dot`)
    .option('-o, --output <file|format>', 'write to FILE (atomically); `-o mermaid` and the like print that format to stdout');
  addNodeOptions(command).action(async (flags: GraphFlags) => {
    // Flags first: a usage error must not pass for an input error.
    const target = outputTarget(flags.output, flags.format, FORMATS);
    checkNodeFlags(flags);
    const result = compileGraph(await readInputs(flags.file), await nodeOptionsFrom(flags));
    printDiagnostics(result.warnings);
      printSimulation(result, false);
    const picture = buildPicture(result.graph);
    const text = await render(target.format, picture);
    if (target.file) await writeAtomically(target.file, text);
    else await writeStdout(text);
  });
}

async function render(format: string, picture: ReturnType<typeof buildPicture>): Promise<string> {
  switch (format) {
    case 'mermaid':
      return renderMermaid(picture);
    case 'json':
      return `${JSON.stringify(picture, null, 2)}\n`;
    case 'svg':
      return dotToSvg(renderDot(picture));
    default:
      return renderDot(picture);
  }
}
