import type { Command } from 'commander';
import { compileGraph } from '../compile.js';
import { parseLabelSelector } from '../model/label-selector.js';
import { filterGraph, isEmptyFilter, type PictureFilter } from '../picture/filter.js';
import { buildPicture, renderDot, renderMermaid } from '../picture/index.js';
import { UsageError, UserError } from './errors.js';
import { dotToSvg } from './graphviz.js';
import { appendFile, readInputs } from './inputs.js';
import { addNodeOptions, checkNodeFlags, nodeOptionsFrom, type RawNodeFlags } from './node-options.js';
import { writeAtomically, writeStdout } from './output.js';
import { outputTarget } from './output-target.js';
import { printDiagnostics, printLine, printSimulation, warnIfNoObjects } from './report.js';

const FORMATS = ['dot', 'mermaid', 'json', 'svg'];

interface GraphFlags extends RawNodeFlags {
  file: string[];
  format?: string;
  output?: string;
  inNamespace: string[];
  service: string[];
  selector?: string;
  maxBoxes: string;
}

/**
 * Past this many boxes Graphviz's layout takes minutes and the picture is
 * unreadable anyway: 100 service ports (1,221 boxes) took 0.5 s, 300 took 5.8 s
 * and 1,000 took 110 s on a quiet machine (npm run bench measures it).
 */
export const DEFAULT_MAX_BOXES = 1500;

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerGraph(program: Command): void {
  const command = program
    .command('graph')
    .description('draw the routing graph: frontends, service ports, endpoints by node, cluster/local policy, what is rejected or dropped')
    .requiredOption('-f, --file <path>', "manifest file, folder (recursive) or '-' for stdin; repeatable", appendFile)
    .option('--format <format>', `${FORMATS.join(', ')} (svg runs Graphviz's dot); default dot`)
    .option('-o, --output <file>', 'write to FILE (atomically) instead of stdout')
    .option('--in-namespace <namespace>', 'only Services in this namespace; repeatable', collect, [])
    .option('--service <name>', 'only this Service (NAMESPACE/NAME, or NAME in any namespace); repeatable', collect, [])
    .option('-l, --selector <selector>', "only Services whose labels match, as kubectl's -l (app=web,tier!=db,env in (a,b))")
    .option('--max-boxes <n>', 'refuse an SVG with more boxes than this (Graphviz takes minutes past a few hundred)', String(DEFAULT_MAX_BOXES))
    .addHelpText(
      'after',
      `
Exit status: 0 drawn, 1 invalid input or a picture too large to lay out, 2 usage error.

Examples:
  kpc graph -f manifests/ --node-name node-a --format svg -o graph.svg
  kpc graph -f cluster.json --in-namespace shop -l tier=frontend --format mermaid`,
    );
  addNodeOptions(command).action(async (flags: GraphFlags) => {
    // Flags first: a usage error must not pass for an input error.
    const target = outputTarget(flags.output, flags.format, FORMATS);
    const filter = pictureFilter(flags);
    const maxBoxes = parseMaxBoxes(flags.maxBoxes);
    checkNodeFlags(flags);
    const result = compileGraph(await readInputs(flags.file), await nodeOptionsFrom(flags));
    printDiagnostics(result.warnings);
    warnIfNoObjects(result.checked);
    printSimulation(result, false);
    const labels = new Map(result.services.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s.metadata.labels ?? {}]));
    const graph = isEmptyFilter(filter) ? result.graph : filterGraph(result.graph, filter, (id) => labels.get(id) ?? {});
    const picture = buildPicture(graph);
    if (picture.boxes.length > maxBoxes) {
      const size = `the picture would have ${picture.boxes.length} boxes (${graph.servicePorts.length} service ports); pick a part with --in-namespace, --service or -l`;
      if (target.format === 'svg') throw new UserError(`${size}, or raise --max-boxes (Graphviz needs minutes for a graph this size)`);
      printLine(`kpc: warning: ${size}`);
    }
    const text = await render(target.format, picture);
    if (target.file) await writeAtomically(target.file, text);
    else await writeStdout(text);
  });
}

function pictureFilter(flags: GraphFlags): PictureFilter {
  let selector = null;
  if (flags.selector !== undefined) {
    try {
      selector = parseLabelSelector(flags.selector);
    } catch (error) {
      throw new UsageError(`-l: ${(error as Error).message}`);
    }
  }
  return { namespaces: flags.inNamespace, services: flags.service, selector };
}

function parseMaxBoxes(text: string): number {
  if (!/^[1-9]\d{0,6}$/.test(text)) throw new UsageError(`--max-boxes ${JSON.stringify(text)}: give a whole number from 1`);
  return Number(text);
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
