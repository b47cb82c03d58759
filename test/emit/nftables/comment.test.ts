import { describe, expect, it } from 'vitest';
import { fitComment, keyWithComment, NFT_COMMENT_MAX } from '../../../src/emit/nftables/table.js';

// nft refuses element comments over 128 characters; the API allows service port names of 143.
describe('element comments fit nft', () => {
  const ns = `z${'2'.repeat(61)}z`;
  const name = `a${'3'.repeat(61)}a`;

  it('keeps a service port name that fits', () => {
    expect(fitComment('default/web:http')).toBe('default/web:http');
    expect(keyWithComment('10.96.0.1 . tcp . 80', 'default/web:http')).toBe('10.96.0.1 . tcp . 80 comment "default/web:http"');
  });

  it('drops the port name of the longest names the API accepts, keeping the Service', () => {
    const full = `${ns}/${name}:a-b-c-d-e-f-g-h`;
    expect(full.length).toBe(143);
    expect(fitComment(full)).toBe(`${ns}/${name}`);
    expect(fitComment(full).length).toBeLessThanOrEqual(NFT_COMMENT_MAX);
  });

  it('never gives more than nft takes, whatever the text', () => {
    expect(fitComment('x'.repeat(300)).length).toBe(NFT_COMMENT_MAX);
    expect(fitComment(`${'x'.repeat(200)}:p`).length).toBe(NFT_COMMENT_MAX);
  });
});
