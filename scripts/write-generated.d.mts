export function writeOrCheck(path: string, text: string, howToFix: string): void;
/** 'up to date', or which line differs and what to run. */
export function firstDifference(current: string, expected: string, howToFix: string): string;
