import { describe, expect, it } from 'vitest';
import { TextBlock, joinChunks } from '../../src/emit/text-block.js';

describe('TextBlock', () => {
  it('keeps lines in order, each chunk ending at the end of a line', () => {
    const block = new TextBlock();
    const lines = Array.from({ length: 20_000 }, (_, i) => `-A KUBE-SVC-${i} -m comment --comment "ns/svc-${i}:http -> 10.0.${i >> 8}.${i & 255}:8080" -j KUBE-SEP-${i}`);
    for (const line of lines) block.line(line);
    const chunks = block.chunks();
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.at(-1)).toBe('\n');
    expect(joinChunks(chunks)).toBe(lines.map((line) => `${line}\n`).join(''));
  });

  it('says whether it holds anything', () => {
    const block = new TextBlock();
    expect(block.isEmpty).toBe(true);
    expect(block.chunks()).toEqual([]);
    block.line('zone é');
    expect(block.isEmpty).toBe(false);
    expect(joinChunks(block.chunks())).toBe('zone é\n');
  });
});
