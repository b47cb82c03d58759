/** Where the generated validators live. */
export const GENERATED: string;
export const SCHEMA_DIR: string;
/** The text the generated file must hold for the schemas as they are now. */
export function generateValidators(): string;
