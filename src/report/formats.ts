import { formatDiagnostic, printable, type Diagnostic } from '../diagnostics/diagnostic.js';

/**
 * `kpc validate`'s findings in the formats CI systems ingest. Pure: the
 * findings in, one text out. Every user string (file names, messages) is
 * escaped for its format, so no finding can break the document around it.
 */

export const REPORT_FORMATS = ['text', 'json', 'junit', 'github', 'sarif'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ValidationReport {
  /** Every file read, in the order given (a folder's files in name order; '-' for stdin). */
  files: string[];
  /** Objects checked, List items counted one by one. */
  objects: number;
  diagnostics: Diagnostic[];
}

/** The schema version of the JSON report; raised only when a field changes meaning or goes. */
export const JSON_REPORT_VERSION = 1;

export function formatReport(report: ValidationReport, format: ReportFormat): string {
  switch (format) {
    case 'text':
      return report.diagnostics.map((d) => `${formatDiagnostic(d)}\n`).join('') + `${summary(report)}\n`;
    case 'json':
      return jsonReport(report);
    case 'junit':
      return junitReport(report);
    case 'github':
      return githubReport(report);
    case 'sarif':
      return sarifReport(report);
  }
}

export function counts(report: ValidationReport): { errors: number; warnings: number } {
  const errors = report.diagnostics.filter((d) => d.severity === 'error').length;
  return { errors, warnings: report.diagnostics.length - errors };
}

/** `12 objects checked: valid, 1 warning` or `12 objects checked: 2 problems`. */
export function summary(report: ValidationReport): string {
  const { errors, warnings } = counts(report);
  const also = warnings ? `, ${count(warnings, 'warning')}` : '';
  return `${count(report.objects, 'object')} checked: ${errors ? count(errors, 'problem') : 'valid'}${also}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function jsonReport(report: ValidationReport): string {
  const { errors, warnings } = counts(report);
  const body = {
    version: JSON_REPORT_VERSION,
    valid: errors === 0,
    files: report.files,
    objects: report.objects,
    errors,
    warnings,
    diagnostics: report.diagnostics.map((d) => ({ severity: d.severity, file: d.file, line: d.line, object: d.object, field: d.field, message: d.message })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** One testcase per file, failing with that file's errors; warnings go to its system-out. */
function junitReport(report: ValidationReport): string {
  const { errors } = counts(report);
  const byFile = new Map<string, Diagnostic[]>(report.files.map((file) => [file, []]));
  for (const d of report.diagnostics) {
    if (!byFile.has(d.file)) byFile.set(d.file, []);
    byFile.get(d.file)!.push(d);
  }
  const failing = [...byFile.values()].filter((list) => list.some((d) => d.severity === 'error')).length;
  const cases = [...byFile].map(([file, list]) => {
    const fileErrors = list.filter((d) => d.severity === 'error');
    const fileWarnings = list.filter((d) => d.severity === 'warning');
    const failure = fileErrors.length
      ? `\n      <failure message="${xml(`${fileErrors.length} problem${fileErrors.length === 1 ? '' : 's'}`)}" type="invalid">${xml(fileErrors.map(formatDiagnostic).join('\n'))}</failure>`
      : '';
    const out = fileWarnings.length ? `\n      <system-out>${xml(fileWarnings.map(formatDiagnostic).join('\n'))}</system-out>` : '';
    const end = failure || out ? `${failure}${out}\n    </testcase>` : '/>';
    return `    <testcase classname="kpc.validate" name="${xml(file)}"${end === '/>' ? end : `>${end}`}`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kpc validate" tests="${byFile.size}" failures="${failing}" errors="0">`,
    `  <testsuite name="kpc validate" tests="${byFile.size}" failures="${failing}" errors="0" skipped="0">`,
    `    <properties><property name="objects" value="${report.objects}"/><property name="problems" value="${errors}"/></properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** Text for XML content and attributes; characters XML 1.0 cannot hold at all are escaped as kpc prints them. */
function xml(text: string): string {
  return printable(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * GitHub Actions workflow commands (`::error file=F,line=L,title=T::message`),
 * which annotate the pull request's files. Escaped as the runner reads them:
 * a newline or percent in the message, and also a colon or comma in a property.
 */
function githubReport(report: ValidationReport): string {
  const lines = report.diagnostics.map((d) => {
    const properties = [`file=${githubProperty(d.file)}`];
    if (d.line !== null) properties.push(`line=${d.line}`);
    properties.push(`title=${githubProperty(['kpc', d.object, d.field].filter(Boolean).join(': '))}`);
    return `::${d.severity} ${properties.join(',')}::${githubData(printable(findingText(d)))}\n`;
  });
  return lines.join('') + `${summary(report)}\n`;
}

/** What is wrong, with the object and field but without the file and line a format gives separately. */
function findingText(d: Diagnostic): string {
  return [d.object, d.field, d.message].filter(Boolean).join(': ');
}

function githubData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function githubProperty(text: string): string {
  return githubData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

const SARIF_RULES = {
  error: { id: 'kpc/invalid', text: 'The manifest is not valid as the API server and kube-proxy read it.' },
  warning: { id: 'kpc/warning', text: 'kpc reads the manifest, but something in it is probably not what was meant.' },
};

/** SARIF 2.1.0, as code-scanning tools (GitHub's among them) take it. */
function sarifReport(report: ValidationReport): string {
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'kpc',
            informationUri: 'https://www.npmjs.com/package/kube-proxy-compiler',
            rules: Object.values(SARIF_RULES).map((rule) => ({ id: rule.id, shortDescription: { text: rule.text } })),
          },
        },
        results: report.diagnostics.map((d) => ({
          ruleId: SARIF_RULES[d.severity].id,
          level: d.severity,
          message: { text: findingText(d) },
          locations: [{ physicalLocation: { artifactLocation: { uri: sarifUri(d.file) }, ...(d.line === null ? {} : { region: { startLine: d.line } }) } }],
        })),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** A relative file name as a SARIF URI reference: each path segment percent-encoded, slashes kept. */
function sarifUri(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}
