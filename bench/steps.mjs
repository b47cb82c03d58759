// The CLI modules whose steps bench/child.mjs times, as one entry: bench/run.ts
// bundles it into dist/bench-steps.mjs the way scripts/bundle.mjs bundles bin/kpc.
export { readInputs } from '../dist/cli/inputs.js';
export { compileGraph, emitChunks } from '../dist/compile.js';
export { writeAtomically } from '../dist/cli/output.js';
export { printDiagnostics } from '../dist/cli/report.js';
