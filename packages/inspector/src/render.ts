import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

/**
 * The pages, rendered by handlebars: every `{{ }}` is HTML-escaped by the library, so a string a
 * gateway (or a forger) put in a payload reaches the page as text, never as markup. The only
 * triple-stash is the layout's `{{{body}}}`, which is a page this module rendered (and escaped).
 */
export const PAGES = ['list', 'delivery', 'dead-letters', 'awaited', 'error'] as const;
export type PageName = (typeof PAGES)[number];

export interface Renderer {
  page(name: PageName, data: Record<string, unknown>): string;
}

// Both src/ and dist/ sit one level below the package root, beside templates/.
const TEMPLATES = path.join(__dirname, '..', 'templates');

export function createRenderer(): Renderer {
  // A private instance: the merchant's own handlebars helpers and partials stay out of it.
  const hbs = Handlebars.create();
  const compile = (name: string): Handlebars.TemplateDelegate =>
    hbs.compile(readFileSync(path.join(TEMPLATES, `${name}.hbs`), 'utf8'), { strict: false });
  const layout = compile('layout');
  const pages = Object.fromEntries(PAGES.map((name) => [name, compile(name)])) as Record<
    PageName,
    Handlebars.TemplateDelegate
  >;
  return {
    page(name, data) {
      // Data is plain objects built by the views; prototype access stays off (handlebars' default).
      return layout({ ...data, body: pages[name](data) });
    },
  };
}
