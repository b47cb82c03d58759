import { describe, expect, it } from 'vitest';
import { formatDiagnostic, type Diagnostic } from '../../src/diagnostics/diagnostic.js';

const base: Diagnostic = { severity: 'error', file: 'a.yaml', line: 3, object: 'Service shop/web', field: 'spec.ports[0].port', message: 'must be an integer' };

describe('formatDiagnostic', () => {
  it('writes FILE:LINE: KIND NAMESPACE/NAME: FIELD.PATH: message', () => {
    expect(formatDiagnostic(base)).toBe('a.yaml:3: Service shop/web: spec.ports[0].port: must be an integer');
  });

  it('leaves out what is not known, and marks warnings', () => {
    expect(formatDiagnostic({ ...base, line: null, object: null, field: null })).toBe('a.yaml: must be an integer');
    expect(formatDiagnostic({ ...base, severity: 'warning', field: null })).toBe('warning: a.yaml:3: Service shop/web: must be an integer');
  });

  it('escapes whatever could break the line or the terminal, in every part', () => {
    const line = formatDiagnostic({
      severity: 'error',
      file: 'dir\n/a.yaml',
      line: 1,
      object: 'Conf\u2028igMap x',
      field: 'metadata.annotations["a\u2029b"]',
      message: 'value "\u001b[31mred\u0007" and "\u0085" and "\u202eevil" and "\u2066x\u2069" and "\u007f"',
    });
    expect(line).toBe('dir\\x0a/a.yaml:1: Conf\\u2028igMap x: metadata.annotations["a\\u2029b"]: value "\\x1b[31mred\\x07" and "\\x85" and "\\u202eevil" and "\\u2066x\\u2069" and "\\x7f"');
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });

  it('leaves ordinary Unicode alone', () => {
    expect(formatDiagnostic({ ...base, message: 'naïve – 名前 ✓' })).toBe('a.yaml:3: Service shop/web: spec.ports[0].port: naïve – 名前 ✓');
  });
});
