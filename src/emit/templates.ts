import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));
const compiled = new Map<string, HandlebarsTemplateDelegate>();

/**
 * A backend's layout template (templates/<backend>/<name>.hbs), compiled once.
 * Reading the package's own templates is like loading code: it does not depend
 * on user input. Escaping is off because the output is not HTML; every value
 * that reaches a template has been validated and formatted by code already.
 */
export function template(backend: string, name: string): HandlebarsTemplateDelegate {
  const key = `${backend}/${name}`;
  let fn = compiled.get(key);
  if (!fn) {
    const source = readFileSync(`${TEMPLATE_DIR}${key}.hbs`, 'utf8');
    fn = Handlebars.compile(source, { noEscape: true, strict: true });
    compiled.set(key, fn);
  }
  return fn;
}
