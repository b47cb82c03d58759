import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { formatReport, type ValidationReport } from '../../src/report/formats.js';

const error: Diagnostic = { severity: 'error', file: 'apps/web.yaml', line: 12, object: 'Service shop/web', field: 'spec.ports[0].port', message: 'must be an integer from 1 to 65535; got 70000' };
const warning: Diagnostic = { severity: 'warning', file: 'apps/web.yaml', line: null, object: null, field: null, message: 'kind "Deployment" is not a kind kpc reads; skipped' };
const report: ValidationReport = { files: ['apps/web.yaml', 'apps/db.yaml'], objects: 3, diagnostics: [error, warning] };
/** A file name and message that try to break out of each format. */
const hostile: Diagnostic = { severity: 'error', file: 'a,b:c%d<e>&"f\'.yaml', line: 1, object: 'Service x/y', field: null, message: 'bad\nline ]]> </failure> ::error::injected %0A' };

describe('validate report formats', () => {
  it('text is the usual lines and the summary', () => {
    expect(formatReport(report, 'text')).toBe(
      'apps/web.yaml:12: Service shop/web: spec.ports[0].port: must be an integer from 1 to 65535; got 70000\n' +
        'warning: apps/web.yaml: kind "Deployment" is not a kind kpc reads; skipped\n' +
        '3 objects checked: 1 problem, 1 warning\n',
    );
  });

  it('json is the documented, versioned shape', () => {
    expect(JSON.parse(formatReport(report, 'json'))).toEqual({
      version: 1,
      valid: false,
      files: ['apps/web.yaml', 'apps/db.yaml'],
      objects: 3,
      errors: 1,
      warnings: 1,
      diagnostics: [
        { severity: 'error', file: 'apps/web.yaml', line: 12, object: 'Service shop/web', field: 'spec.ports[0].port', message: 'must be an integer from 1 to 65535; got 70000' },
        { severity: 'warning', file: 'apps/web.yaml', line: null, object: null, field: null, message: 'kind "Deployment" is not a kind kpc reads; skipped' },
      ],
    });
  });

  it('junit has a testcase per file, failing with its errors', () => {
    const text = formatReport(report, 'junit');
    expect(text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="kpc validate" tests="2" failures="1" errors="0">/);
    expect(text).toContain('<testcase classname="kpc.validate" name="apps/web.yaml">\n      <failure message="1 problem" type="invalid">apps/web.yaml:12: Service shop/web: spec.ports[0].port: must be an integer from 1 to 65535; got 70000</failure>');
    expect(text).toContain('<system-out>warning: apps/web.yaml: kind &quot;Deployment&quot; is not a kind kpc reads; skipped</system-out>');
    expect(text).toContain('<testcase classname="kpc.validate" name="apps/db.yaml"/>');
  });

  it('junit escapes what would end an element or attribute', () => {
    const text = formatReport({ files: [hostile.file], objects: 1, diagnostics: [hostile] }, 'junit');
    expect(text).toContain('name="a,b:c%d&lt;e&gt;&amp;&quot;f&apos;.yaml"');
    expect(text).not.toContain('</failure> ::');
    expect(text).not.toContain(']]>');
    expect(text.match(/<\/failure>/g)).toHaveLength(1);
  });

  it('github gives workflow commands that annotate the file and line', () => {
    expect(formatReport(report, 'github').split('\n')).toEqual([
      '::error file=apps/web.yaml,line=12,title=kpc%3A Service shop/web%3A spec.ports[0].port::Service shop/web: spec.ports[0].port: must be an integer from 1 to 65535; got 70000',
      '::warning file=apps/web.yaml,title=kpc::kind "Deployment" is not a kind kpc reads; skipped',
      '3 objects checked: 1 problem, 1 warning',
      '',
    ]);
  });

  it('github escapes a message or file name that would start another command', () => {
    const [line] = formatReport({ files: [hostile.file], objects: 1, diagnostics: [hostile] }, 'github').split('\n');
    expect(line).toBe('::error file=a%2Cb%3Ac%25d<e>&"f\'.yaml,line=1,title=kpc%3A Service x/y::Service x/y: bad\\x0aline ]]> </failure> ::error::injected %250A');
  });

  it('sarif 2.1.0 gives each finding a rule, a level and a location', () => {
    const sarif = JSON.parse(formatReport(report, 'sarif'));
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].tool.driver.name).toBe('kpc');
    expect(sarif.runs[0].results).toEqual([
      {
        ruleId: 'kpc/invalid',
        level: 'error',
        message: { text: 'Service shop/web: spec.ports[0].port: must be an integer from 1 to 65535; got 70000' },
        locations: [{ physicalLocation: { artifactLocation: { uri: 'apps/web.yaml' }, region: { startLine: 12 } } }],
      },
      {
        ruleId: 'kpc/warning',
        level: 'warning',
        message: { text: 'kind "Deployment" is not a kind kpc reads; skipped' },
        locations: [{ physicalLocation: { artifactLocation: { uri: 'apps/web.yaml' } } }],
      },
    ]);
    const ids = sarif.runs[0].tool.driver.rules.map((r: { id: string }) => r.id);
    expect(ids).toEqual(['kpc/invalid', 'kpc/warning']);
  });
});
