/**
 * The last guard before text reaches a root-run script. Validation already
 * limits names to DNS labels and addresses to parsed IPs, so these never fire
 * on valid input; if one does, a check upstream is missing, and failing loudly
 * is better than writing a rule that could be bent.
 */
const COMMENT_SAFE = /^[A-Za-z0-9 ._:/\-[\]>,()=@]*$/;
const TOKEN_SAFE = /^[A-Za-z0-9._:/\-[\]]+$/;

export function assertCommentText(text: string): string {
  if (!COMMENT_SAFE.test(text) || text.length > 240) throw new Error(`unsafe comment text ${JSON.stringify(text)}`);
  return text;
}

export function assertToken(text: string): string {
  if (!TOKEN_SAFE.test(text)) throw new Error(`unsafe token ${JSON.stringify(text)}`);
  return text;
}
