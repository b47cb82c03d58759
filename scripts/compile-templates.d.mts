/** Where the precompiled templates live. */
export const GENERATED: string;
export const TEMPLATE_DIR: string;
/** The text the generated file must hold for the templates as they are now. */
export function generateTemplates(): string;
