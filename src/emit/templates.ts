import runtime from 'handlebars/runtime.js';
import type FullHandlebars from 'handlebars';
import { TEMPLATE_SPECS } from './templates.generated.js';

// The runtime's own typings declare nothing; it is the full package's API without compile.
const Handlebars = runtime as unknown as Pick<typeof FullHandlebars, 'template'>;
const compiled = new Map<string, HandlebarsTemplateDelegate>();

/**
 * A backend's layout template (templates/<backend>/<name>.hbs). They are
 * precompiled when kpc is built (scripts/compile-templates.mjs, with escaping
 * off because the output is not HTML: every value that reaches a template has
 * been validated and formatted by code already), so only Handlebars' runtime
 * is loaded here.
 */
export function template(backend: string, name: string): HandlebarsTemplateDelegate {
  const key = `${backend}/${name}`;
  let fn = compiled.get(key);
  if (!fn) {
    const spec = (TEMPLATE_SPECS as Record<string, TemplateSpecification | undefined>)[key];
    if (spec === undefined) throw new Error(`no template ${key}: add templates/${key}.hbs and run npm run build`);
    fn = Handlebars.template(spec);
    compiled.set(key, fn);
  }
  return fn;
}
